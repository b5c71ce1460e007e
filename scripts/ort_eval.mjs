#!/usr/bin/env node
// Runs a model written by `qat export --format onnx` in ONNX Runtime (npm onnxruntime-node) over the
// Fashion-MNIST test set, or with --text-data FILE over the tokenized examples `qat export --text-data FILE`
// wrote (a BERT classifier's test split), or with --raw-input FILE --shape C,H,W over unlabelled float32
// inputs (tests), and prints one JSON line: accuracy, samples, with --dump-logits K the logits of the first
// K examples, and with --reference FILE (`qat eval --logits FILE`) how many examples have the same top class
// as qat and the largest logit difference (to compare with the framework's own evaluation).
//
// usage: node scripts/ort_eval.mjs MODEL.onnx [--limit N] [--batch B] [--dump-logits K] [--threads T]
//                                  [--data DIR | --text-data FILE | --raw-input FILE --shape C,H,W]
//                                  [--reference LOGITS.json]
// Setup: (cd scripts && npm install --ignore-scripts onnxruntime-node)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import * as ort from 'onnxruntime-node';

const usage = 'usage: node scripts/ort_eval.mjs MODEL.onnx [--limit N] [--batch B] [--dump-logits K] ' +
  '[--threads T] [--data DIR | --text-data FILE | --raw-input FILE --shape C,H,W] [--reference LOGITS.json]';

function fail(message) {
  console.error(`ort_eval: error: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { model: null, limit: 0, batch: 256, dumpLogits: 0, threads: 2,
                 data: '/usr/share/datasets/fashion-mnist', textData: null, rawInput: null, shape: null,
                 reference: null };
  const numeric = { '--limit': 'limit', '--batch': 'batch', '--dump-logits': 'dumpLogits', '--threads': 'threads' };
  const paths = { '--data': 'data', '--text-data': 'textData', '--raw-input': 'rawInput', '--shape': 'shape',
                  '--reference': 'reference' };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a in numeric || a in paths) {
      if (i + 1 >= argv.length) fail(`${a} needs a value\n${usage}`);
      const value = argv[++i];
      if (a in paths) {
        args[paths[a]] = value;
        continue;
      }
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) fail(`${a}: expected a non-negative integer, got '${value}'`);
      args[numeric[a]] = n;
    } else if (a.startsWith('--') || args.model !== null) {
      fail(`unexpected argument '${a}'\n${usage}`);
    } else {
      args.model = a;
    }
  }
  if (args.model === null) fail(usage);
  if (args.batch === 0) fail('--batch must be positive');
  if ((args.rawInput === null) !== (args.shape === null)) fail('--raw-input and --shape go together');
  if (args.shape !== null) {
    args.shape = args.shape.split(',').map(Number);
    if (!args.shape.every((d) => Number.isInteger(d) && d > 0)) fail('--shape: expected positive integers C,H,W');
  }
  return args;
}

// A gzip IDX file (big-endian header: magic with the rank in its low byte, then one u32 per dimension).
function readIdx(path, rank) {
  let bytes;
  try {
    bytes = gunzipSync(readFileSync(path));
  } catch (e) {
    fail(`${path}: ${e.message}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank || view.getUint32(0) !== 0x800 + rank) fail(`${path}: not a rank-${rank} u8 IDX file`);
  const dims = [];
  for (let d = 0; d < rank; ++d) dims.push(view.getUint32(4 + 4 * d));
  const data = bytes.subarray(4 + 4 * rank);
  if (data.length !== dims.reduce((a, b) => a * b, 1)) fail(`${path}: truncated (${data.length} bytes of data)`);
  return { dims, data };
}

// Fashion-MNIST test images as float pixels in [0, 1], [size, 1, rows, cols] per batch.
function loadImages(dir, limit) {
  const images = readIdx(join(dir, 't10k-images-idx3-ubyte.gz'), 3);
  const labels = readIdx(join(dir, 't10k-labels-idx1-ubyte.gz'), 1);
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) fail(`${count} images but ${labels.dims[0]} labels`);
  const image = rows * cols;
  return {
    n: limit > 0 ? Math.min(limit, count) : count,
    labels: labels.data,
    feeds(session, first, size) {
      const pixels = new Float32Array(size * image);
      for (let i = 0; i < pixels.length; ++i) pixels[i] = images.data[first * image + i] / 255;
      return { [session.inputNames[0]]: new ort.Tensor('float32', pixels, [size, 1, rows, cols]) };
    },
  };
}

// Token ids from `qat export --text-data`; a batch is padded to its longest sequence with pad_id and the
// attention mask marks the real tokens.
function loadText(file, limit) {
  let data;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  const { sequences, labels, pad_id: pad } = data;
  if (!Array.isArray(sequences) || !Array.isArray(labels) || sequences.length !== labels.length ||
      !Number.isInteger(pad)) {
    fail(`${file}: expected "sequences", "labels" of the same length and "pad_id" (qat export --text-data)`);
  }
  return {
    n: limit > 0 ? Math.min(limit, sequences.length) : sequences.length,
    labels,
    feeds(session, first, size) {
      const batch = sequences.slice(first, first + size);
      const length = Math.max(...batch.map((s) => s.length));
      const ids = new BigInt64Array(size * length).fill(BigInt(pad));
      const mask = new BigInt64Array(size * length);
      batch.forEach((sequence, i) => sequence.forEach((id, t) => {
        ids[i * length + t] = BigInt(id);
        mask[i * length + t] = 1n;
      }));
      return { input_ids: new ort.Tensor('int64', ids, [size, length]),
               attention_mask: new ort.Tensor('int64', mask, [size, length]) };
    },
  };
}

// Unlabelled inputs: float32 little-endian, [count, ...shape] in one raw file.
function loadRaw(file, shape, limit) {
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length === 0 || bytes.length % (4 * size) !== 0) {
    fail(`${file}: ${bytes.length} bytes are not a whole number of float32 inputs of shape [${shape}]`);
  }
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const count = data.length / size;
  return {
    n: limit > 0 ? Math.min(limit, count) : count,
    labels: null,
    feeds(session, first, n) {
      return { [session.inputNames[0]]: new ort.Tensor('float32', data.slice(first * size, (first + n) * size),
                                                       [n, ...shape]) };
    },
  };
}

// The logits `qat eval --logits FILE` wrote: {"logits": [[...], ...]} in test-split order.
function loadReference(file) {
  let data;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  if (!Array.isArray(data.logits)) fail(`${file}: expected "logits" (qat eval --logits)`);
  return data.logits;
}

function argmax(row) {
  let best = 0;
  for (let j = 1; j < row.length; ++j) if (row[j] > row[best]) best = j;
  return best;
}

// Same top class, largest |difference| and largest |difference| / largest |expected logit| of one example.
function compare(row, expected, agreement) {
  if (!Array.isArray(expected) || expected.length !== row.length) fail('--reference: logits of another shape');
  if (argmax(row) === argmax(expected)) ++agreement.top1_matches;
  const largest = Math.max(...expected.map(Math.abs));
  const diff = Math.max(...row.map((v, j) => Math.abs(v - expected[j])));
  agreement.max_abs_diff = Math.max(agreement.max_abs_diff, diff);
  agreement.max_rel_diff = Math.max(agreement.max_rel_diff, largest > 0 ? diff / largest : diff);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const set = args.textData !== null ? loadText(args.textData, args.limit)
    : args.rawInput !== null ? loadRaw(args.rawInput, args.shape, args.limit) : loadImages(args.data, args.limit);
  const reference = args.reference !== null ? loadReference(args.reference) : null;
  if (reference !== null && reference.length < set.n) {
    fail(`${args.reference}: ${reference.length} examples, fewer than the ${set.n} evaluated`);
  }
  const agreement = { top1_matches: 0, max_abs_diff: 0, max_rel_diff: 0 };
  // Run the graph as written, so that the exported integer grids are reproduced exactly: "basic" skips
  // the int8 kernel fusions (and MatMulNBits, which quantizes activations at run time), and
  // session.disable_quant_qdq turns off the basic level's WeightBiasQuantization, which would round
  // every float bias to int32 multiples of input scale × weight scale.
  const session = await ort.InferenceSession.create(args.model, {
    graphOptimizationLevel: 'basic',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    extra: { session: { disable_quant_qdq: '1' } },
  }).catch((e) => fail(`${args.model}: ${e.message}`));
  const output = session.outputNames[0];
  const start = process.hrtime.bigint();
  let correct = 0, classes = 0;
  const logits = [];
  for (let first = 0; first < set.n; first += args.batch) {
    const size = Math.min(args.batch, set.n - first);
    const result = (await session.run(set.feeds(session, first, size)))[output];
    classes = result.dims[1];
    for (let i = 0; i < size; ++i) {
      const row = Array.from(result.data.subarray(i * classes, (i + 1) * classes));
      if (set.labels !== null && argmax(row) === set.labels[first + i]) ++correct;
      if (first + i < args.dumpLogits) logits.push(row);
      if (reference !== null) compare(row, reference[first + i], agreement);
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const labelled = set.labels !== null;
  const line = { command: 'ort_eval', model: args.model, samples: set.n, correct: labelled ? correct : null,
                 accuracy: labelled ? correct / set.n : null, classes, seconds,
                 onnxruntime: ort.env.versions?.common ?? null };
  if (reference !== null) line.reference = { file: args.reference, examples: set.n, ...agreement };
  if (args.dumpLogits > 0) line.logits = logits;
  console.log(JSON.stringify(line));
}

await main();
