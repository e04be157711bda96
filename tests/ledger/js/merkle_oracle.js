// Reference oracle for tests/ledger/test_merkle.py: answers one JSON request per stdin line
// with one JSON line computed by @openzeppelin/merkle-tree, the library ledger/merkle.py
// must match. Requests:
//   {"op":"build","types":[...],"values":[[...]],"multi":[[valueIndex,...],...]}
//       -> {"root", "proofs": [proof per value index], "dump", "multi": [{leaves,proof,proofFlags}],
//           "lookup": [leafLookup(value) per value index]}
//   {"op":"verify","root","types","leaf","proof"}  -> {"ok": bool}
//   {"op":"load","dump"}                           -> {"root"}
// Any thrown error becomes {"error": message}.
'use strict';
const readline = require('readline');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

function handle(req) {
  switch (req.op) {
    case 'build': {
      const tree = StandardMerkleTree.of(req.values, req.types);
      return {
        root: tree.root,
        proofs: req.values.map((_, i) => tree.getProof(i)),
        lookup: req.values.map((v) => tree.leafLookup(v)),
        dump: tree.dump(),
        multi: (req.multi || []).map((indices) => tree.getMultiProof(indices)),
      };
    }
    case 'verify':
      return { ok: StandardMerkleTree.verify(req.root, req.types, req.leaf, req.proof) };
    case 'load':
      return { root: StandardMerkleTree.load(req.dump).root };
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  let reply;
  try {
    reply = handle(JSON.parse(line));
  } catch (err) {
    reply = { error: String(err && err.message) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
