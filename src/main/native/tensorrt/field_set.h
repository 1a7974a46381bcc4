/*
 * An owned copy of a plugin field collection: what the plugin serialises into an engine and what the
 * tensorrt backend keys its engine cache by. Serialised fields are parsed again with
 * trtllm4j_params_parse when read back, so an engine is held to the same rules as a fresh plugin.
 */
#ifndef TRTLLM4J_TENSORRT_FIELD_SET_H
#define TRTLLM4J_TENSORRT_FIELD_SET_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trtllm4j.h"

namespace trtllm4j {

class FieldSet {
public:
    FieldSet() = default;
    FieldSet(const FieldSet &other) { *this = other; }
    FieldSet &operator=(const FieldSet &other);

    /* Copies every field; TRTLLM4J_INVALID_ARGUMENT naming the field when its type has no fixed size. */
    int32_t assign(const trtllm4j_plugin_field_collection &collection);
    /* Reads what serialize() wrote; TRTLLM4J_INVALID_ARGUMENT when the bytes are not that. */
    int32_t deserialize(const void *data, size_t length);

    /* Fields sorted by name, so equal collections give equal bytes whatever order they came in. */
    std::vector<uint8_t> serialize() const;

    /* A view in TensorRT's layout, valid while this set is alive and unchanged. */
    const trtllm4j_plugin_field_collection &collection() const { return collection_; }

private:
    struct Field {
        std::string name;
        int32_t type;
        int32_t length;
        std::vector<uint8_t> data;
    };
    void refresh_view();

    std::vector<Field> fields_;
    std::vector<trtllm4j_plugin_field> view_;
    trtllm4j_plugin_field_collection collection_{0, nullptr};
};

/* FNV-1a, 64 bits: the engine cache's key, not a defence against anyone choosing collisions. */
uint64_t fnv1a(const void *data, size_t length, uint64_t hash = 0xcbf29ce484222325ULL);

} // namespace trtllm4j

#endif
