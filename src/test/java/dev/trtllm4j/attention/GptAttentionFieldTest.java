package dev.trtllm4j.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The field table against the facts read from TensorRT-LLM's sources ({@code gpt_attention_plugin_fields.json}). */
class GptAttentionFieldTest {

    private static JsonNode reference;

    @BeforeAll
    static void readReference() throws IOException {
        try (InputStream in = GptAttentionFieldTest.class.getResourceAsStream("/gpt_attention_plugin_fields.json")) {
            reference = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void listsTheFieldsTensorRtLlmSendsInItsOrder() {
        List<String> sent = new ArrayList<>();
        reference.get("python_PluginFieldCollection_order").forEach(name -> sent.add(name.asText()));
        assertThat(Arrays.stream(GptAttentionField.values()).map(GptAttentionField::fieldName))
                .containsExactlyElementsOf(sent)
                .hasSize(reference.at("/counts/sent_by_python").asInt());
    }

    @Test
    void leavesOutTheStaleCreatorEntryNothingReads() {
        assertThatThrownBy(() -> GptAttentionField.byName("layer_idx_in_cache_pool"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown GPT attention plugin field 'layer_idx_in_cache_pool'");
    }

    @Test
    void eachFieldTravelsAsTheTypeCreatePluginReads() {
        Map<String, String> reads = new HashMap<>();
        for (JsonNode field : reference.get("fields_in_creator_getFieldNames_order")) {
            // cp_group is "kINT32 array (...)": its type is the first word.
            reads.put(field.get("name").asText(), field.get("python_sends").asText().split(" ")[0]);
        }
        for (GptAttentionField field : GptAttentionField.values()) {
            assertThat(field.wireType().tensorRtName()).as(field.fieldName()).isEqualTo(reads.get(field.fieldName()));
        }
    }

    @Test
    void flagsAreInt8ExceptPagedKvCacheAndUseCache() {
        for (GptAttentionField field : GptAttentionField.values()) {
            if (field.kind() == GptAttentionField.ValueKind.BOOLEAN) {
                PluginFieldType expected = field == GptAttentionField.PAGED_KV_CACHE || field == GptAttentionField.USE_CACHE
                        ? PluginFieldType.INT32
                        : PluginFieldType.INT8;
                assertThat(field.wireType()).as(field.fieldName()).isEqualTo(expected);
            }
        }
    }

    @Test
    void everyFieldHasADescription() {
        for (GptAttentionField field : GptAttentionField.values()) {
            assertThat(field.description()).as(field.fieldName()).isNotBlank();
        }
    }

    @Test
    void enumCodesMatchTensorRtLlm() {
        JsonNode enums = reference.get("enums");
        for (PositionEmbeddingType type : PositionEmbeddingType.values()) {
            assertThat(type.code()).isEqualTo(enums.at("/PositionEmbeddingType_python/" + type.tensorRtLlmName()).asInt());
        }
        for (RotaryScalingType type : RotaryScalingType.values()) {
            assertThat(type.code()).isEqualTo(enums.at("/RotaryScalingType_python/" + type.tensorRtLlmName()).asInt());
        }
        for (ContextFmhaType type : ContextFmhaType.values()) {
            assertThat(type.code()).isEqualTo(enums.at("/ContextFMHAType/" + type.tensorRtLlmName()).asInt());
        }
        for (AttentionMaskType type : AttentionMaskType.values()) {
            String key = type.name() + "/" + type.tensorRtLlmName();
            assertThat(type.code()).isEqualTo(enums.get("AttentionMaskType").get(key).asInt());
        }
        assertThat(DataType.FLOAT32.code()).isEqualTo(enums.at("/nvinfer1_DataType_for_type_id/kFLOAT").asInt());
        assertThat(DataType.FLOAT16.code()).isEqualTo(enums.at("/nvinfer1_DataType_for_type_id/kHALF").asInt());
        assertThat(DataType.BFLOAT16.code()).isEqualTo(enums.at("/nvinfer1_DataType_for_type_id/kBF16").asInt());
        for (PluginFieldType type : PluginFieldType.values()) {
            assertThat(type.code()).isEqualTo(reference.at("/trt_PluginFieldType_codes/" + type.tensorRtName()).asInt());
        }
    }
}
