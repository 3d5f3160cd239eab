// Reads WARC files with webrecorder's warcio.js (its WARCParser finds the
// records and their WARC headers) and checks each record's digests with
// node's own SHA-1: WARC-Block-Digest over the whole block, and
// WARC-Payload-Digest over what follows the HTTP headers of request and
// response records. One JSON line per record.
//
// usage: WARCIO_MODULES=/path/to/node_modules node verify-digests.mjs FILE...
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.WARCIO_MODULES;
const { WARCParser } = await import(pathToFileURL(join(modules, "warcio", "dist", "index.js")).href);

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(bytes) {
  let out = "", bits = 0, value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8) out += "=";
  return out;
}
const sha1 = (b) => "sha1:" + base32(createHash("sha1").update(b).digest());

function headersEnd(block) {
  for (let i = 0; i + 3 < block.length; i++) {
    if (block[i] === 13 && block[i + 1] === 10 && block[i + 2] === 13 && block[i + 3] === 10) return i + 4;
  }
  return -1;
}

let failed = false;
for (const file of process.argv.slice(2)) {
  const parser = new WARCParser(createReadStream(file), { keepHeadersCase: true, parseHttp: false });
  for await (const record of parser) {
    const block = await record.readFully(false);
    const out = {
      file,
      offset: parser.offset,
      length: parser.recordLength,
      type: record.warcType,
      id: record.warcHeader("WARC-Record-ID"),
      uri: record.warcTargetURI ?? null,
      contentLength: record.warcContentLength,
      blockLength: block.length,
      blockDigest: record.warcBlockDigest === sha1(block),
    };
    if (record.warcType === "response" || record.warcType === "request") {
      const end = headersEnd(block);
      out.payloadDigest = end >= 0 && record.warcPayloadDigest === sha1(block.subarray(end));
      out.firstLine = new TextDecoder().decode(block.subarray(0, block.indexOf(13)));
    }
    if (!out.blockDigest || out.payloadDigest === false || out.blockLength !== out.contentLength) failed = true;
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}
process.exitCode = failed ? 1 : 0;
