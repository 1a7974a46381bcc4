"""PyTorch figures for the shapes of bench_cuda.cu, timed the same way (CUDA events, median of 50
after 10 warm-ups, each timed run queued behind a kernel that holds the stream for 200,000 cycles so
that the host's launches are not timed): decode with scaled_dot_product_attention(enable_gqa=True) and HF-style RoPE on
the new token written into a [batch, kv_heads, positions, head_size] cache; prefill with and without
RoPE (2 sequences of S tokens, head size D: S = 4096 at D = 128, 64 and 256, S = 512 and 16384 at
D = 128); a device-to-device copy."""
import torch
import torch.nn.functional as F

B, S, H, HKV, D = 64, 4096, 32, 8, 128
dev, dt = "cuda", torch.bfloat16


def median_ms(fn):
    for _ in range(10):
        fn()
    times = []
    for _ in range(50):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda._sleep(200_000)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return sorted(times)[len(times) // 2]


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope_tables(positions):
    inv_freq = 1.0 / (10000 ** (torch.arange(0, D, 2, device=dev, dtype=torch.float32) / D))
    freqs = positions.float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dt), emb.sin().to(dt)


def apply_rotary_pos_emb(q, k, cos, sin):
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def uniform(*shape):
    return torch.rand(*shape, device=dev, dtype=dt) * 2 - 1


# decode: 64 sequences, 4096 cached + 1 new token
k_cache, v_cache = uniform(B, HKV, S + 1, D), uniform(B, HKV, S + 1, D)
qkv = uniform(B, (H + 2 * HKV) * D)
cos, sin = rope_tables(torch.tensor([S], device=dev))


def decode():
    q = qkv[:, : H * D].view(B, H, 1, D)
    k = qkv[:, H * D: (H + HKV) * D].view(B, HKV, 1, D)
    v = qkv[:, (H + HKV) * D:].view(B, HKV, 1, D)
    q, k = apply_rotary_pos_emb(q, k, cos, sin)
    k_cache[:, :, S: S + 1] = k
    v_cache[:, :, S: S + 1] = v
    return F.scaled_dot_product_attention(q, k_cache, v_cache, enable_gqa=True)


decode_ms = median_ms(decode)
decode_bytes = B * 2 * HKV * (S + 1) * D * 2

# prefill: 2 sequences of S tokens, head size d
P = 2
prefill_rows = []
for S_p, d in ((4096, 128), (4096, 64), (4096, 256), (512, 128), (16384, 128)):
    qkv_p = uniform(P, S_p, (H + 2 * HKV) * d)
    inv_freq_p = 1.0 / (10000 ** (torch.arange(0, d, 2, device=dev, dtype=torch.float32) / d))
    emb = torch.arange(S_p, device=dev).float()[:, None] * inv_freq_p[None, :]
    emb = torch.cat((emb, emb), dim=-1)
    cos_p, sin_p = emb.cos().to(dt), emb.sin().to(dt)

    def prefill(rope):
        q = qkv_p[..., : H * d].view(P, S_p, H, d).transpose(1, 2)
        k = qkv_p[..., H * d: (H + HKV) * d].view(P, S_p, HKV, d).transpose(1, 2)
        v = qkv_p[..., (H + HKV) * d:].view(P, S_p, HKV, d).transpose(1, 2)
        if rope:
            q, k = apply_rotary_pos_emb(q, k, cos_p, sin_p)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)

    flops = P * 2.0 * S_p * S_p * d * H
    for rope in (True, False):
        ms = median_ms(lambda: prefill(rope))
        prefill_rows.append(f"| prefill sdpa, 2 x {S_p}, D {d}, causal, {'RoPE' if rope else 'no RoPE'} | {ms:.3f} | "
                            f"{flops / ms / 1e9:.0f} TFLOP/s |")
    del qkv_p

src = torch.empty(1 << 30, dtype=torch.uint8, device=dev).fill_(1)
dst = torch.empty_like(src)
copy_ms = median_ms(lambda: dst.copy_(src))

print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}")
print("| PyTorch | time (ms) | rate |\n| --- | --- | --- |")
print(f"| decode sdpa(enable_gqa) + RoPE + cache write | {decode_ms:.3f} | {decode_bytes / decode_ms / 1e9:.2f} TB/s KV read |")
print("\n".join(prefill_rows))
print(f"| device copy 1 GiB | {copy_ms:.3f} | {2 * (1 << 30) / copy_ms / 1e9:.2f} TB/s (read + written) |")
