/* A GPT attention plugin's field collection for native tests and benchmarks: every field the parser
   requires, at TensorRT-LLM's defaults unless the caller's trtllm4j_params says otherwise. */
#ifndef TRTLLM4J_TEST_PLUGIN_FIELDS_H
#define TRTLLM4J_TEST_PLUGIN_FIELDS_H

#include <string.h>

#include "plugin_params.h"

typedef struct test_fields {
    trtllm4j_params params;
    int32_t cp_group[1];
    trtllm4j_plugin_field fields[64];
    trtllm4j_plugin_field_collection collection;
} test_fields;

static inline void test_default_params(trtllm4j_params *p) {
    memset(p, 0, sizeof *p);
    p->num_heads = 1;
    p->num_kv_heads = 1;
    p->num_kv_heads_origin = -1;
    p->vision_start = -1;
    p->vision_length = -1;
    p->head_size = 64;
    p->unidirectional = 1;
    p->q_scaling = 1.0f;
    p->rotary_embedding_base = 10000.0f;
    p->rotary_embedding_scale = 1.0f;
    p->rotary_embedding_short_m_scale = 1.0f;
    p->rotary_embedding_long_m_scale = 1.0f;
    p->rotary_embedding_max_positions = 1024;
    p->rotary_embedding_original_max_positions = 1024;
    p->tp_size = 1;
    p->remove_input_padding = 1;
    p->mask_type = MASK_CAUSAL;
    p->block_sparse_block_size = 64;
    p->block_sparse_homo_head_pattern = 0;
    p->block_sparse_num_local_blocks = 16;
    p->block_sparse_vertical_stride = 8;
    p->tokens_per_block = 64;
    p->type_id = TRTLLM4J_FLOAT32;
    p->max_context_length = 1;
    p->use_cache = 1;
    p->spec_decoding_max_generation_length = 1;
    p->cp_size = 1;
}

/* Points f->collection at f->params; call again after changing params' address (copies). */
static inline const trtllm4j_plugin_field_collection *test_collection(test_fields *f) {
    int32_t count = 0;
#define TEST_FIELD(field, wire, ctype)                             \
    f->fields[count].name = #field;                                \
    f->fields[count].data = &f->params.field;                      \
    f->fields[count].type = TRTLLM4J_FIELD_##wire;                 \
    f->fields[count].length = 1;                                   \
    count++;
    TRTLLM4J_SCALAR_FIELDS(TEST_FIELD)
#undef TEST_FIELD
    f->cp_group[0] = 0;
    f->fields[count].name = "cp_group";
    f->fields[count].data = f->cp_group;
    f->fields[count].type = TRTLLM4J_FIELD_INT32;
    f->fields[count].length = 1;
    count++;
    f->collection.nb_fields = count;
    f->collection.fields = f->fields;
    return &f->collection;
}

#endif
