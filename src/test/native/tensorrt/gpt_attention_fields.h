/*
 * TensorRT-LLM's 58 GPTAttention fields as functional.gpt_attention sends them, with its defaults,
 * for the native tests: each test sets what its configuration changes.
 */
#ifndef TRTLLM4J_TEST_GPT_ATTENTION_FIELDS_H
#define TRTLLM4J_TEST_GPT_ATTENTION_FIELDS_H

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "trtllm4j.h"

class GptAttentionFields {
public:
    GptAttentionFields(int32_t num_heads, int32_t num_kv_heads, int32_t head_size, int32_t type_id) {
        i32("layer_idx", 0);
        i32("num_heads", num_heads);
        i32("vision_start", -1);
        i32("vision_length", -1);
        i32("num_kv_heads", num_kv_heads);
        i32("num_kv_heads_origin", -1);
        i32("head_size", head_size);
        i32("unidirectional", 1);
        f32("q_scaling", 1.0f);
        f32("attn_logit_softcapping_scale", 0.0f);
        i8("position_embedding_type", 0);
        i32("rotary_embedding_dim", 0);
        f32("rotary_embedding_base", 10000.0f);
        i8("rotary_embedding_scale_type", 0);
        f32("rotary_embedding_scale", 1.0f);
        f32("rotary_embedding_short_m_scale", 1.0f);
        f32("rotary_embedding_long_m_scale", 1.0f);
        i32("rotary_embedding_max_positions", 1024);
        i32("rotary_embedding_original_max_positions", 1024);
        i32("tp_size", 1);
        i32("tp_rank", 0);
        i8("unfuse_qkv_gemm", 0);
        i8("context_fmha_type", 0);
        i32("kv_cache_quant_mode", 0);
        i8("remove_input_padding", 1);
        i32("mask_type", 1);
        i32("block_sparse_block_size", 64);
        i8("block_sparse_homo_head_pattern", 0);
        i32("block_sparse_num_local_blocks", 16);
        i32("block_sparse_vertical_stride", 8);
        i32("paged_kv_cache", 0);
        i32("tokens_per_block", 32);
        i32("type_id", type_id);
        i32("max_context_length", 4096);
        i8("qkv_bias_enabled", 0);
        i8("do_cross_attention", 0);
        i32("max_distance", 0);
        i8("pos_shift_enabled", 0);
        i8("dense_context_fmha", 0);
        i8("use_paged_context_fmha", 0);
        i8("use_fp8_context_fmha", 1);
        i8("has_full_attention_mask", 0);
        i32("use_cache", 1);
        i8("is_spec_decoding_enabled", 0);
        i8("spec_decoding_is_generation_length_variable", 0);
        i32("spec_decoding_max_generation_length", 0);
        i8("is_mla_enabled", 0);
        i32("q_lora_rank", 0);
        i32("kv_lora_rank", 0);
        i32("qk_nope_head_dim", 0);
        i32("qk_rope_head_dim", 0);
        i32("v_head_dim", 0);
        i8("fuse_fp4_quant", 0);
        i8("skip_attn", 0);
        i32("cp_size", 1);
        i32("cp_rank", 0);
        add("cp_group", TRTLLM4J_FIELD_INT32, std::vector<uint8_t>(4, 0), 1);
        i8("use_logn_scaling", 0);
    }
    GptAttentionFields(const GptAttentionFields &other) : entries_(other.entries_) {}

    GptAttentionFields &i32(const char *name, int32_t value) { return set(name, TRTLLM4J_FIELD_INT32, &value, 4); }
    GptAttentionFields &i8(const char *name, int8_t value) { return set(name, TRTLLM4J_FIELD_INT8, &value, 1); }
    GptAttentionFields &f32(const char *name, float value) { return set(name, TRTLLM4J_FIELD_FLOAT32, &value, 4); }
    GptAttentionFields &remove(const char *name) {
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            if (it->name == name) {
                entries_.erase(it);
                break;
            }
        }
        return *this;
    }

    /* A collection in TensorRT's layout, valid until this object changes. */
    const trtllm4j_plugin_field_collection *collection() {
        view_.clear();
        for (const Entry &e : entries_) view_.push_back({e.name.c_str(), e.data.data(), e.type, e.length});
        collection_ = {static_cast<int32_t>(view_.size()), view_.data()};
        return &collection_;
    }

private:
    struct Entry {
        std::string name;
        int32_t type;
        std::vector<uint8_t> data;
        int32_t length;
    };
    GptAttentionFields &set(const char *name, int32_t type, const void *value, size_t size) {
        const uint8_t *bytes = static_cast<const uint8_t *>(value);
        for (Entry &e : entries_) {
            if (e.name == name) {
                e.type = type;
                e.data.assign(bytes, bytes + size);
                e.length = 1;
                return *this;
            }
        }
        return add(name, type, std::vector<uint8_t>(bytes, bytes + size), 1);
    }
    GptAttentionFields &add(const char *name, int32_t type, std::vector<uint8_t> data, int32_t length) {
        entries_.push_back({name, type, std::move(data), length});
        return *this;
    }

    std::deque<Entry> entries_;
    std::vector<trtllm4j_plugin_field> view_;
    trtllm4j_plugin_field_collection collection_{};
};

#endif
