/*
 * trtllm4j bridge ABI: the one header shared by the Java side (through
 * jextract, see jextract.args beside this file) and every native backend.
 *
 * A backend is a shared library exporting trtllm4j_backend(), which returns a
 * const table of function pointers. Java finds that symbol in each library it
 * loads and calls through the table, so several backends can live in one JVM.
 *
 * Every function returns a trtllm4j_status; on failure the backend keeps a
 * message for the calling thread, read with last_error(). No function aborts
 * or lets a C++ exception cross this boundary.
 */
#ifndef TRTLLM4J_H
#define TRTLLM4J_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct or the function table changes. */
#define TRTLLM4J_ABI_VERSION 3

enum trtllm4j_status {
    TRTLLM4J_OK = 0,
    TRTLLM4J_INVALID_ARGUMENT = 1, /* a plugin field or a step buffer broke a rule */
    TRTLLM4J_UNSUPPORTED = 2,      /* valid for TensorRT-LLM, not implemented by this backend */
    TRTLLM4J_OUT_OF_MEMORY = 3,
    TRTLLM4J_INTERNAL_ERROR = 4    /* CUDA, TensorRT or another library failed */
};

/* nvinfer1::PluginFieldType codes (TensorRT 10). */
enum trtllm4j_plugin_field_type {
    TRTLLM4J_FIELD_FLOAT16 = 0,
    TRTLLM4J_FIELD_FLOAT32 = 1,
    TRTLLM4J_FIELD_FLOAT64 = 2,
    TRTLLM4J_FIELD_INT8 = 3,
    TRTLLM4J_FIELD_INT16 = 4,
    TRTLLM4J_FIELD_INT32 = 5,
    TRTLLM4J_FIELD_CHAR = 6,
    TRTLLM4J_FIELD_DIMS = 7,
    TRTLLM4J_FIELD_UNKNOWN = 8,
    TRTLLM4J_FIELD_BF16 = 9,
    TRTLLM4J_FIELD_INT64 = 10,
    TRTLLM4J_FIELD_FP8 = 11,
    TRTLLM4J_FIELD_INT4 = 12
};

/* nvinfer1::DataType codes, as the plugin's type_id field and step buffers use them. */
enum trtllm4j_data_type {
    TRTLLM4J_FLOAT32 = 0,
    TRTLLM4J_FLOAT16 = 1,
    TRTLLM4J_INT32 = 3,
    TRTLLM4J_BFLOAT16 = 7
};

/* Byte-for-byte nvinfer1::PluginField: 24 bytes on LP64. */
typedef struct trtllm4j_plugin_field {
    const char *name;
    const void *data;
    int32_t type;   /* enum trtllm4j_plugin_field_type */
    int32_t length; /* number of elements at data */
} trtllm4j_plugin_field;

/* Byte-for-byte nvinfer1::PluginFieldCollection: 16 bytes on LP64. */
typedef struct trtllm4j_plugin_field_collection {
    int32_t nb_fields;
    const trtllm4j_plugin_field *fields;
} trtllm4j_plugin_field_collection;

enum trtllm4j_memory_location {
    TRTLLM4J_HOST = 0,
    TRTLLM4J_DEVICE = 1
};

/* Directions of backend_api.copy. */
enum trtllm4j_copy_kind {
    TRTLLM4J_HOST_TO_DEVICE = 0,
    TRTLLM4J_DEVICE_TO_HOST = 1,
    TRTLLM4J_DEVICE_TO_DEVICE = 2
};

/* One tensor of a step: where it lives, how large it is, what it holds. */
typedef struct trtllm4j_buffer {
    void *data;
    int64_t size_bytes;
    int32_t location;  /* enum trtllm4j_memory_location */
    int32_t data_type; /* enum trtllm4j_data_type */
} trtllm4j_buffer;

enum trtllm4j_request_type {
    TRTLLM4J_REQUEST_CONTEXT = 0,
    TRTLLM4J_REQUEST_GENERATION = 1
};

/*
 * One attention step over a batch of packed sequences. Sequence b owns
 * input_lengths[b] consecutive tokens of qkv; token t of b has position
 * past_lengths[b] + t. The three int32 arrays are host memory on every backend.
 */
typedef struct trtllm4j_attention_step {
    int32_t batch_size;
    int32_t num_tokens;             /* sum of input_lengths */
    int32_t max_seq_len;            /* positions per sequence in kv_cache */
    int32_t max_attention_window;   /* W: positions a query sees, sinks included */
    int32_t sink_token_length;      /* S: leading positions always seen */
    int32_t rotary_positions;       /* rows of rotary_cos_sin; 0 without RoPE */
    trtllm4j_buffer input_lengths;      /* int32 [batch_size] */
    trtllm4j_buffer past_lengths;       /* int32 [batch_size] */
    trtllm4j_buffer host_request_types; /* int32 [batch_size], enum trtllm4j_request_type */
    trtllm4j_buffer qkv;             /* [num_tokens, (num_heads + 2 * num_kv_heads) * head_size] */
    trtllm4j_buffer kv_cache;        /* [batch_size, 2, num_kv_heads, max_seq_len, head_size], K then V */
    trtllm4j_buffer context;         /* [num_tokens, num_heads * head_size], written */
    trtllm4j_buffer rotary_inv_freq; /* float32 [rotary_embedding_dim / 2] */
    trtllm4j_buffer rotary_cos_sin;  /* float32 [rotary_positions, rotary_embedding_dim / 2, 2] */
    /* TensorRT-LLM's plugin takes the long-factor tables of long_rope (Phi-3) as inputs of their own
       and picks them over the short ones past rotary_embedding_original_max_positions; they are
       unused (NULL) for every other position embedding. */
    trtllm4j_buffer long_rope_rotary_inv_freq; /* long_rope: the long factors' rotary_inv_freq */
    trtllm4j_buffer long_rope_rotary_cos_sin;  /* long_rope: the long factors' rotary_cos_sin */
    trtllm4j_buffer alibi_slopes;    /* float32 [num_heads], ALiBi types only */
    trtllm4j_buffer workspace;       /* at least workspace_size() bytes */
    void *stream;                    /* cudaStream_t on GPU backends, NULL on the CPU */
} trtllm4j_attention_step;

/* Where a member of an ABI struct lies, as the compiled library sees it. */
typedef struct trtllm4j_layout_entry {
    const char *struct_name;
    const char *member_name; /* NULL: the entry gives the whole struct's size */
    int64_t offset;
    int64_t size;
} trtllm4j_layout_entry;

typedef struct trtllm4j_plugin trtllm4j_plugin;

typedef struct trtllm4j_backend_api {
    int32_t abi_version; /* TRTLLM4J_ABI_VERSION the library was built with */
    const char *name;    /* "cpu", "cuda", "tensorrt" */
    int32_t tensor_location; /* where qkv, kv_cache, context and the tables must live */
    /* One line on what this backend runs on, e.g. threads and instruction set. */
    const char *(*describe)(void);
    /* Parses and validates the fields (a TensorRT PluginFieldCollection). */
    int32_t (*create)(const trtllm4j_plugin_field_collection *fields, trtllm4j_plugin **plugin);
    /* Scratch bytes enqueue needs for a step: a function of its batch_size, num_tokens and
       max_seq_len alone, so callers may ask once per shape. */
    int32_t (*workspace_size)(const trtllm4j_plugin *plugin, const trtllm4j_attention_step *step,
                              int64_t *bytes);
    /* Runs one step: writes K and V into kv_cache and the attention output into context. */
    int32_t (*enqueue)(trtllm4j_plugin *plugin, const trtllm4j_attention_step *step);
    /* Frees the plugin; NULL is ignored. */
    void (*destroy)(trtllm4j_plugin *plugin);
    /* The calling thread's last failure message, or "" when none. */
    const char *(*last_error)(void);
    /* The library's own view of the ABI structs; returns the entry count. */
    int32_t (*layout)(const trtllm4j_layout_entry **entries);

    /*
     * Checks that the backend can run here (driver, device); called once when the library is
     * opened. On failure last_error() says what is missing and what was tried.
     */
    int32_t (*initialize)(void);

    /*
     * Memory where tensor_location says tensors live, and streams to order work on it. GPU
     * backends fill in all of these; the CPU backend gives allocate, release, copy and fill over
     * host memory and leaves the rest NULL. Work is ordered as on CUDA's legacy default stream:
     * copy and fill return when done, after all work enqueued before them on any stream of the
     * backend.
     */
    /* Device bytes free and in all, for memory accounting. */
    int32_t (*memory_info)(int64_t *free_bytes, int64_t *total_bytes);
    /* At least 256-byte-aligned memory of bytes (> 0) bytes. */
    int32_t (*allocate)(int64_t bytes, void **pointer);
    /* Frees what allocate returned; NULL is ignored. */
    int32_t (*release)(void *pointer);
    /* Copies bytes (>= 0) in the direction of kind (enum trtllm4j_copy_kind). */
    int32_t (*copy)(void *destination, const void *source, int64_t bytes, int32_t kind);
    /* Sets bytes (>= 0) bytes to value & 0xff. */
    int32_t (*fill)(void *pointer, int32_t value, int64_t bytes);
    /* A stream for attention steps (step.stream); NULL in a step means the default stream. */
    int32_t (*stream_create)(void **stream);
    /* Waits until all work enqueued on stream is done. */
    int32_t (*stream_synchronize)(void *stream);
    /* Destroys a stream after its work is done; NULL is ignored. */
    int32_t (*stream_destroy)(void *stream);

    /*
     * Options and engine files, for backends that build engines (tensorrt); NULL on the others.
     * The backend's own header names its options (src/main/native/tensorrt/trtllm4j_tensorrt.h).
     */
    /* Sets an option for plugins created afterwards; TRTLLM4J_INVALID_ARGUMENT naming an unknown
       name or a bad value. */
    int32_t (*set_option)(const char *name, const char *value);
    /* Writes the plugin's engine, built now if no step has built it yet, to the file at path. */
    int32_t (*save_engine)(trtllm4j_plugin *plugin, const char *path);
    /* A plugin running the engine in the file at path; its fields come from the file. */
    int32_t (*open_engine)(const char *path, trtllm4j_plugin **plugin);
    /* The fields the plugin was made from, owned by the plugin and valid while it lives. */
    int32_t (*plugin_fields)(const trtllm4j_plugin *plugin, const trtllm4j_plugin_field_collection **fields);
    /* Seconds the plugin's current engine took to build (0 when none yet or when it was read from a
       file) and whether it was read from a file (the engine cache or open_engine): 1, else 0. */
    int32_t (*engine_info)(const trtllm4j_plugin *plugin, double *build_seconds, int32_t *from_file);
} trtllm4j_backend_api;

/* The type of the one symbol every backend library exports. */
typedef const trtllm4j_backend_api *(*trtllm4j_backend_entry)(void);

#define TRTLLM4J_BACKEND_ENTRY_SYMBOL "trtllm4j_backend"

const trtllm4j_backend_api *trtllm4j_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* TRTLLM4J_H */
