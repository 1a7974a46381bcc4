#include "field_set.h"

#include <algorithm>
#include <cstring>

#include "status.h"

namespace trtllm4j {

namespace {

constexpr uint32_t kMagic = 0x41344a54; /* "TJ4A" little-endian: trtllm4j GPT attention fields */
constexpr uint32_t kVersion = 1;

size_t element_size(int32_t type) {
    switch (type) {
    case TRTLLM4J_FIELD_INT8:
    case TRTLLM4J_FIELD_CHAR:
    case TRTLLM4J_FIELD_FP8: return 1;
    case TRTLLM4J_FIELD_FLOAT16:
    case TRTLLM4J_FIELD_INT16:
    case TRTLLM4J_FIELD_BF16: return 2;
    case TRTLLM4J_FIELD_FLOAT32:
    case TRTLLM4J_FIELD_INT32: return 4;
    case TRTLLM4J_FIELD_FLOAT64:
    case TRTLLM4J_FIELD_INT64: return 8;
    default: return 0;
    }
}

template <typename T> void put(std::vector<uint8_t> &out, T value) {
    const uint8_t *bytes = reinterpret_cast<const uint8_t *>(&value);
    out.insert(out.end(), bytes, bytes + sizeof value);
}

class Reader {
public:
    Reader(const void *data, size_t length) : at_(static_cast<const uint8_t *>(data)), left_(length) {}
    template <typename T> bool get(T &value) { return take(&value, sizeof value); }
    bool take(void *into, size_t bytes) {
        if (bytes > left_) return false;
        std::memcpy(into, at_, bytes);
        at_ += bytes;
        left_ -= bytes;
        return true;
    }
    size_t left() const { return left_; }

private:
    const uint8_t *at_;
    size_t left_;
};

} // namespace

uint64_t fnv1a(const void *data, size_t length, uint64_t hash) {
    const uint8_t *bytes = static_cast<const uint8_t *>(data);
    for (size_t i = 0; i < length; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

FieldSet &FieldSet::operator=(const FieldSet &other) {
    if (this != &other) {
        fields_ = other.fields_;
        refresh_view();
    }
    return *this;
}

int32_t FieldSet::assign(const trtllm4j_plugin_field_collection &collection) {
    std::vector<Field> fields;
    for (int32_t i = 0; i < collection.nb_fields; i++) {
        const trtllm4j_plugin_field &field = collection.fields[i];
        size_t size = element_size(field.type);
        if (field.name == nullptr || size == 0 || field.length < 0 || (field.length > 0 && field.data == nullptr)) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "plugin field %d (%s): type %d, length %d cannot be copied",
                                 i, field.name == nullptr ? "no name" : field.name, field.type, field.length);
        }
        const uint8_t *data = static_cast<const uint8_t *>(field.data);
        fields.push_back(Field{field.name, field.type, field.length,
                               std::vector<uint8_t>(data, data + size * static_cast<size_t>(field.length))});
    }
    fields_ = std::move(fields);
    refresh_view();
    return TRTLLM4J_OK;
}

std::vector<uint8_t> FieldSet::serialize() const {
    std::vector<const Field *> sorted;
    for (const Field &field : fields_) sorted.push_back(&field);
    std::sort(sorted.begin(), sorted.end(), [](const Field *a, const Field *b) { return a->name < b->name; });
    std::vector<uint8_t> out;
    put(out, kMagic);
    put(out, kVersion);
    put(out, static_cast<uint32_t>(sorted.size()));
    for (const Field *field : sorted) {
        put(out, static_cast<uint32_t>(field->name.size()));
        out.insert(out.end(), field->name.begin(), field->name.end());
        put(out, field->type);
        put(out, field->length);
        out.insert(out.end(), field->data.begin(), field->data.end());
    }
    return out;
}

int32_t FieldSet::deserialize(const void *data, size_t length) {
    Reader in(data, length);
    uint32_t magic = 0, version = 0, count = 0;
    if (data == nullptr || !in.get(magic) || !in.get(version) || !in.get(count) || magic != kMagic) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                             "serialised GPTAttention plugin: %zu bytes that are not trtllm4j's plugin fields", length);
    }
    if (version != kVersion) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                             "serialised GPTAttention plugin: format version %u, this library reads version %u",
                             version, kVersion);
    }
    std::vector<Field> fields;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t name_length = 0;
        Field field;
        bool ok = in.get(name_length) && name_length <= in.left();
        if (ok) {
            field.name.resize(name_length);
            ok = in.take(&field.name[0], name_length) && in.get(field.type) && in.get(field.length);
        }
        size_t size = element_size(field.type);
        ok = ok && size != 0 && field.length >= 0 && size * static_cast<size_t>(field.length) <= in.left();
        if (ok) {
            field.data.resize(size * static_cast<size_t>(field.length));
            ok = in.take(field.data.data(), field.data.size());
        }
        if (!ok) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "serialised GPTAttention plugin: field %u of %u is cut short",
                                 i, count);
        }
        fields.push_back(std::move(field));
    }
    if (in.left() != 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "serialised GPTAttention plugin: %zu bytes after the fields",
                             in.left());
    }
    fields_ = std::move(fields);
    refresh_view();
    return TRTLLM4J_OK;
}

void FieldSet::refresh_view() {
    view_.clear();
    for (const Field &field : fields_) {
        view_.push_back(trtllm4j_plugin_field{field.name.c_str(), field.data.empty() ? nullptr : field.data.data(),
                                              field.type, field.length});
    }
    collection_.nb_fields = static_cast<int32_t>(view_.size());
    collection_.fields = view_.empty() ? nullptr : view_.data();
}

} // namespace trtllm4j
