#include "plugin_params.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

typedef struct field_spec {
    const char *name;
    int32_t type;
    size_t offset;
} field_spec;

static const field_spec scalar_fields[] = {
#define TRTLLM4J_FIELD_SPEC(name, wire, ctype) {#name, TRTLLM4J_FIELD_##wire, offsetof(trtllm4j_params, name)},
    TRTLLM4J_SCALAR_FIELDS(TRTLLM4J_FIELD_SPEC)
#undef TRTLLM4J_FIELD_SPEC
};
enum { SCALAR_FIELD_COUNT = sizeof scalar_fields / sizeof scalar_fields[0] };

static const char *type_name(int32_t type) {
    switch (type) {
    case TRTLLM4J_FIELD_FLOAT32: return "kFLOAT32";
    case TRTLLM4J_FIELD_INT8: return "kINT8";
    case TRTLLM4J_FIELD_INT32: return "kINT32";
    default: return "another type";
    }
}

static size_t type_size(int32_t type) {
    return type == TRTLLM4J_FIELD_INT8 ? 1 : 4;
}

int trtllm4j_is_rope(int32_t type) {
    return type == POS_ROPE_GPTJ || type == POS_ROPE_GPT_NEOX || type == POS_LONG_ROPE || type == POS_YARN ||
           type == POS_ROPE_M;
}

int trtllm4j_is_alibi(int32_t type) {
    return type == POS_ALIBI || type == POS_ALIBI_WITH_SCALE;
}

int trtllm4j_data_type_size(int32_t type_id) {
    switch (type_id) {
    case TRTLLM4J_FLOAT32: return 4;
    case TRTLLM4J_FLOAT16:
    case TRTLLM4J_BFLOAT16: return 2;
    default: return 0;
    }
}

/* Reads every field into params; cp_group, the one list, is left where it is for its own check. */
static int32_t read_fields(const trtllm4j_plugin_field_collection *collection, trtllm4j_params *params,
                           const trtllm4j_plugin_field **cp_group) {
    if (collection == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "the plugin field collection is NULL");
    }
    if (collection->nb_fields < 0 || (collection->nb_fields > 0 && collection->fields == NULL)) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "the plugin field collection has nb_fields = %d and fields = %p",
                             collection->nb_fields, (const void *)collection->fields);
    }
    char seen[SCALAR_FIELD_COUNT + 1] = {0};
    for (int32_t i = 0; i < collection->nb_fields; i++) {
        const trtllm4j_plugin_field *field = &collection->fields[i];
        if (field->name == NULL) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "plugin field %d has no name", i);
        }
        if (strcmp(field->name, "cp_group") == 0) {
            if (field->type != TRTLLM4J_FIELD_INT32 || field->length < 1 || field->data == NULL) {
                return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                     "cp_group: must be kINT32 data with at least one rank, got type %d, length %d",
                                     field->type, field->length);
            }
            params->cp_group_size = field->length;
            *cp_group = field;
            seen[SCALAR_FIELD_COUNT] = 1;
            continue;
        }
        int index = -1;
        for (int k = 0; k < SCALAR_FIELD_COUNT; k++) {
            if (strcmp(field->name, scalar_fields[k].name) == 0) {
                index = k;
                break;
            }
        }
        if (index < 0) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "unknown GPT attention plugin field '%s'", field->name);
        }
        const field_spec *spec = &scalar_fields[index];
        if (field->type != spec->type || field->length != 1 || field->data == NULL) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "%s: must be one %s value, got type %d (%s), length %d%s", spec->name,
                                 type_name(spec->type), field->type, type_name(field->type), field->length,
                                 field->data == NULL ? ", no data" : "");
        }
        memcpy((char *)params + spec->offset, field->data, type_size(spec->type));
        seen[index] = 1;
    }
    for (int k = 0; k < SCALAR_FIELD_COUNT; k++) {
        if (!seen[k]) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s is missing from the plugin field collection",
                                 scalar_fields[k].name);
        }
    }
    if (!seen[SCALAR_FIELD_COUNT]) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "cp_group is missing from the plugin field collection");
    }
    return TRTLLM4J_OK;
}

#define RULE(holds, ...)                                                  \
    do {                                                                  \
        if (!(holds)) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, __VA_ARGS__); \
    } while (0)
#define AT_LEAST(field, minimum) \
    RULE(p->field >= (minimum), #field " = %d: must be at least %d", (int)p->field, (int)(minimum))
#define POSITIVE_FINITE(field) \
    RULE(p->field > 0 && isfinite(p->field), #field " = %g: must be positive and finite", (double)p->field)

static int supported_head_size(int32_t head_size) {
    static const int32_t sizes[] = {32, 48, 64, 72, 80, 96, 104, 112, 128, 144, 160, 192, 224, 256};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (sizes[i] == head_size) return 1;
    }
    return 0;
}

/* The rules of dev.trtllm4j.attention.ConfigRules that the plugin fields alone can decide. */
static int32_t validate(const trtllm4j_params *p) {
    AT_LEAST(layer_idx, 0);
    AT_LEAST(num_heads, 1);
    AT_LEAST(num_kv_heads, 1);
    RULE(p->num_heads % p->num_kv_heads == 0, "num_kv_heads = %d: must divide num_heads = %d", p->num_kv_heads,
         p->num_heads);
    RULE(p->num_kv_heads_origin == -1 || p->num_kv_heads_origin >= p->num_kv_heads,
         "num_kv_heads_origin = %d: must be -1 (same as num_kv_heads) or at least num_kv_heads = %d",
         p->num_kv_heads_origin, p->num_kv_heads);
    RULE(supported_head_size(p->head_size),
         "head_size = %d: must be one of the plugin's head sizes [32, 48, 64, 72, 80, 96, 104, 112, 128, 144, "
         "160, 192, 224, 256]",
         p->head_size);
    /* The kernels index qkv's rows in int32, as TensorRT-LLM's do. */
    int64_t row = ((int64_t)p->num_heads + 2 * (int64_t)p->num_kv_heads) * p->head_size;
    RULE(row <= INT32_MAX,
         "num_heads = %d, num_kv_heads = %d: a qkv row of (num_heads + 2 * num_kv_heads) * head_size = %lld "
         "elements must fit in int32",
         p->num_heads, p->num_kv_heads, (long long)row);
    POSITIVE_FINITE(q_scaling);
    RULE(isfinite(p->attn_logit_softcapping_scale) && p->attn_logit_softcapping_scale >= 0,
         "attn_logit_softcapping_scale = %g: must be 0 (off) or positive", (double)p->attn_logit_softcapping_scale);
    AT_LEAST(max_context_length, 1);
    AT_LEAST(tp_size, 1);
    RULE(p->tp_rank >= 0 && p->tp_rank < p->tp_size, "tp_rank = %d: must be in [0, tp_size = %d)", p->tp_rank,
         p->tp_size);
    AT_LEAST(cp_size, 1);
    RULE(p->cp_rank >= 0 && p->cp_rank < p->cp_size, "cp_rank = %d: must be in [0, cp_size = %d)", p->cp_rank,
         p->cp_size);
    RULE(trtllm4j_data_type_size(p->type_id) != 0, "type_id = %d: must be float32 (0), float16 (1) or bfloat16 (7)",
         p->type_id);
    RULE(p->position_embedding_type >= POS_LEARNED_ABSOLUTE && p->position_embedding_type <= POS_ROPE_M,
         "position_embedding_type = %d: not a PositionEmbeddingType code (0 to 9)", p->position_embedding_type);
    RULE(p->rotary_embedding_scale_type >= SCALE_NONE && p->rotary_embedding_scale_type <= SCALE_MROPE,
         "rotary_embedding_scale_type = %d: not a RotaryScalingType code (0 to 6)", p->rotary_embedding_scale_type);
    RULE(p->mask_type >= 0 && p->mask_type <= MASK_CUSTOM, "mask_type = %d: not an AttentionMaskType code (0 to 6)",
         p->mask_type);
    RULE(p->context_fmha_type >= 0 && p->context_fmha_type <= 2,
         "context_fmha_type = %d: not a ContextFMHAType code (0 to 2)", p->context_fmha_type);
    RULE(!p->is_mla_enabled,
         "is_mla_enabled = %d: the TensorRT GPT attention plugin rejects MLA; TensorRT-LLM runs MLA in its "
         "PyTorch workflow",
         p->is_mla_enabled);
    AT_LEAST(tokens_per_block, 1);

    int rope = trtllm4j_is_rope(p->position_embedding_type);
    int32_t dim = p->rotary_embedding_dim;
    if (rope) {
        RULE(dim > 0, "rotary_embedding_dim = %d: position_embedding_type %d is RoPE and needs rotary_embedding_dim > 0",
             dim, p->position_embedding_type);
        RULE(dim % 2 == 0, "rotary_embedding_dim = %d: must be even: RoPE rotates pairs of features", dim);
        RULE(dim <= p->head_size, "rotary_embedding_dim = %d: must be at most head_size = %d", dim, p->head_size);
        POSITIVE_FINITE(rotary_embedding_base);
    } else {
        RULE(dim == 0, "rotary_embedding_dim = %d: must be 0 for position_embedding_type %d, which is not RoPE", dim,
             p->position_embedding_type);
    }
    RULE(p->rotary_embedding_scale_type == SCALE_NONE || rope,
         "rotary_embedding_scale_type = %d: needs a RoPE position_embedding_type, not %d",
         p->rotary_embedding_scale_type, p->position_embedding_type);
    switch (p->rotary_embedding_scale_type) {
    case SCALE_LINEAR:
        POSITIVE_FINITE(rotary_embedding_scale);
        break;
    case SCALE_DYNAMIC:
    case SCALE_LLAMA3:
    case SCALE_YARN:
        RULE(p->rotary_embedding_scale >= 1 && isfinite(p->rotary_embedding_scale),
             "rotary_embedding_scale = %g: must be a finite factor of at least 1 for this rotary_embedding_scale_type",
             (double)p->rotary_embedding_scale);
        break;
    default:
        break;
    }
    return TRTLLM4J_OK;
}

static int compare_ranks(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* TensorRT-LLM reads cp_group into a std::set: it must hold cp_size ranks, none twice. */
static int32_t check_cp_group(const trtllm4j_plugin_field *cp_group, int32_t cp_size) {
    RULE(cp_group->length == cp_size, "cp_group: %d ranks, but cp_size = %d: it lists the ranks of the context-parallel "
         "group", cp_group->length, cp_size);
    int32_t *ranks = malloc((size_t)cp_size * sizeof *ranks);
    if (ranks == NULL) {
        return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "cp_group: no memory to check %d ranks", cp_size);
    }
    memcpy(ranks, cp_group->data, (size_t)cp_size * sizeof *ranks); /* field data need not be aligned */
    qsort(ranks, (size_t)cp_size, sizeof *ranks, compare_ranks);
    int32_t repeated = -1;
    for (int32_t i = 1; i < cp_size && repeated < 0; i++) {
        if (ranks[i] == ranks[i - 1]) repeated = i;
    }
    int32_t rank = repeated < 0 ? 0 : ranks[repeated];
    free(ranks);
    RULE(repeated < 0, "cp_group: rank %d is listed twice: the group holds cp_size = %d distinct ranks", rank, cp_size);
    return TRTLLM4J_OK;
}

int32_t trtllm4j_params_parse(const trtllm4j_plugin_field_collection *fields, trtllm4j_params *params) {
    memset(params, 0, sizeof *params);
    const trtllm4j_plugin_field *cp_group = NULL;
    int32_t status = read_fields(fields, params, &cp_group);
    if (status == TRTLLM4J_OK) status = validate(params);
    return status != TRTLLM4J_OK ? status : check_cp_group(cp_group, params->cp_size);
}
