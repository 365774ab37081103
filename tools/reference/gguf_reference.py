"""The `gguf` package (llama.cpp's gguf-py) as the reference for UPM's GGUF reader.

Writes under tests/data/model/gguf/:

  quant_types.gguf              a tiny GGUF (gguf.GGUFWriter) with one tensor per
                                ggml type UPM dequantizes, and metadata of every
                                value type (scalars, strings, arrays, a nested array)
  quant_types.expected.safetensors
                                gguf.quants.dequantize of each tensor (fp32, the
                                PyTorch shape: GGUF dims reversed)
  quant_types.metadata.json     the metadata as gguf.GGUFReader reads it back

F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 tensors are made by
gguf.quants.quantize from seeded normal values. gguf-py cannot quantize the
K-quants (Q4_K, Q5_K, Q6_K: dequantize only) and the bundled SmolLM2 file has
none (Q4_1, Q8_0, F32), so their blocks are seeded random bytes with the fp16
super-block scales set to finite values of a weight's size: every bit of the
packed quants and 6-bit scales is exercised, and dequantize defines the
expected values.

Run: .venv/bin/python tools/reference/gguf_reference.py
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "model", "gguf")

QUANTIZED = [T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
K_QUANTS = [T.Q4_K, T.Q5_K, T.Q6_K]
# Byte offsets of the fp16 scales inside one K-quant block (d, and dmin where present).
K_SCALE_OFFSETS = {T.Q4_K: (0, 2), T.Q5_K: (0, 2), T.Q6_K: (208,)}


def f16_values(rng):
    """Normal values plus the fp16 corner cases: subnormals, signed zeros, the largest finite values."""
    values = rng.normal(0, 1, size=(4, 64)).astype(np.float32)
    specials = [0.0, -0.0, 6e-8, -6e-8, 3.0e-5, 6.1e-5, 65504.0, -65504.0, 1e-4, 0.5, -2.0, 1024.0]
    values[0, : len(specials)] = specials
    return values


def k_quant_blocks(rng, qtype, rows, blocks_per_row):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(rows, blocks_per_row, type_size), dtype=np.uint8)
    for offset in K_SCALE_OFFSETS[qtype]:
        scales = rng.uniform(-0.02, 0.02, size=(rows, blocks_per_row)).astype(np.float16)
        raw[..., offset:offset + 2] = scales.view(np.uint8).reshape(rows, blocks_per_row, 2)
    return raw.reshape(rows, blocks_per_row * type_size), (rows, blocks_per_row * block_size)


def add_metadata(writer):
    writer.add_uint8("test.uint8", 200)
    writer.add_int8("test.int8", -100)
    writer.add_uint16("test.uint16", 60000)
    writer.add_int16("test.int16", -30000)
    writer.add_uint32("test.uint32", 4000000000)
    writer.add_int32("test.int32", -2000000000)
    writer.add_uint64("test.uint64", 18000000000000000000)
    writer.add_int64("test.int64", -9000000000000000000)
    writer.add_float32("test.float32", 0.1)
    writer.add_float64("test.float64", 0.1)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo, 世界\n")
    writer.add_array("test.int_array", [1, -2, 3])
    writer.add_array("test.string_array", ["a", "", "ÿ"])
    writer.add_array("test.float_array", [0.5, -1.25])
    writer.add_array("test.nested_array", [[1, 2], [3]])


def metadata_json(reader):
    """Every test key as GGUFReader reads it: {"type", "element_type", "value"}. GGUFReader
    flattens a nested array ([[1, 2], [3]] reads as [1, 2, 3]); the test compares it flattened."""
    out = {}
    for key, field in reader.fields.items():
        if not key.startswith("test."):
            continue
        kind = field.types[0]
        value = field.contents()
        out[key] = {"type": kind.name, "element_type": field.types[1].name if len(field.types) > 1 else None,
                    "value": value}
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(27)
    path = os.path.join(OUT, "quant_types.gguf")
    writer = GGUFWriter(path, arch="llama")
    add_metadata(writer)
    expected = {}

    def add(name, raw, qtype, shape):
        writer.add_tensor(name, raw, raw_dtype=qtype)  # raw.shape: bytes per row for quantized types
        expected[name] = dequantize(raw, qtype).reshape(shape).astype(np.float32)

    values = rng.normal(0, 1, size=(2, 3, 32)).astype(np.float32)
    add("f32_3d", values, T.F32, values.shape)
    values = f16_values(rng)
    add("f16", values.astype(np.float16), T.F16, values.shape)
    for qtype in QUANTIZED:
        values = rng.normal(0, 0.05, size=(4, 64)).astype(np.float32)
        values[1] = 0.0  # an all-zero row: zero scale, no division by it
        add(qtype.name.lower(), quantize(values, qtype), qtype, values.shape)
    for qtype in K_QUANTS:
        raw, shape = k_quant_blocks(rng, qtype, rows=2, blocks_per_row=2)
        add(qtype.name.lower(), raw, qtype, shape)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    save_file(expected, os.path.join(OUT, "quant_types.expected.safetensors"))
    reader = GGUFReader(path)
    for tensor in reader.tensors:  # the file reads back as written
        got = dequantize(tensor.data, tensor.tensor_type).reshape(expected[tensor.name].shape)
        assert np.array_equal(got.view(np.uint32), expected[tensor.name].view(np.uint32)), tensor.name
    with open(os.path.join(OUT, "quant_types.metadata.json"), "w") as f:
        json.dump(metadata_json(reader), f, indent=1, ensure_ascii=False)
        f.write("\n")
    for name, value in expected.items():
        print(f"{name:8s} {str(value.shape):14s} first {value.reshape(-1)[:3]}")


if __name__ == "__main__":
    main()
