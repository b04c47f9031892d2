// run.js runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU) for
// normguard's tests: node run.js MODEL.onnx IN.json OUT.json
//
// IN.json: {"name": {"type": "double"|"float"|"string"|"int64", "dims": [N, 1],
//                    "data": [...]}, ...}
// double and float data are the IEEE bit patterns as hex strings (16 and 8
// digits), so NaN, -0 and every last bit cross the process boundary intact;
// int64 data are decimal strings, string data are strings.
// OUT.json has the same shape, one entry per model output.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function decode(t) {
  switch (t.type) {
    case 'double': {
      const buf = new ArrayBuffer(8 * t.data.length);
      const dv = new DataView(buf);
      t.data.forEach((h, i) => dv.setBigUint64(8 * i, BigInt('0x' + h), true));
      return new ort.Tensor('float64', new Float64Array(buf), t.dims);
    }
    case 'float': {
      const buf = new ArrayBuffer(4 * t.data.length);
      const dv = new DataView(buf);
      t.data.forEach((h, i) => dv.setUint32(4 * i, parseInt(h, 16), true));
      return new ort.Tensor('float32', new Float32Array(buf), t.dims);
    }
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(t.data.map(BigInt)), t.dims);
    case 'string':
      return new ort.Tensor('string', t.data, t.dims);
  }
  throw new Error('unknown input type ' + t.type);
}

function encode(t) {
  const dims = Array.from(t.dims);
  switch (t.type) {
    case 'float64': {
      const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const data = [];
      for (let i = 0; i < t.data.length; i++) data.push(dv.getBigUint64(8 * i, true).toString(16).padStart(16, '0'));
      return { type: 'double', dims, data };
    }
    case 'float32': {
      const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const data = [];
      for (let i = 0; i < t.data.length; i++) data.push(dv.getUint32(4 * i, true).toString(16).padStart(8, '0'));
      return { type: 'float', dims, data };
    }
    case 'int64':
      return { type: 'int64', dims, data: Array.from(t.data, (v) => v.toString()) };
    case 'string':
      return { type: 'string', dims, data: Array.from(t.data) };
  }
  throw new Error('unsupported output type ' + t.type);
}

async function main() {
  const [model, inPath, outPath] = process.argv.slice(2);
  if (!outPath) throw new Error('usage: node run.js MODEL.onnx IN.json OUT.json');
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const raw = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const feeds = {};
  for (const name of Object.keys(raw)) feeds[name] = decode(raw[name]);
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) out[name] = encode(results[name]);
  fs.writeFileSync(outPath, JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
