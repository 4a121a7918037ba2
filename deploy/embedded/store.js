#!/usr/bin/env node
'use strict';
/*
 * The embedded broker's durable object store: s3rver (S3 objects kept as files in a directory)
 * with three things S3 guarantees and s3rver 3.7 does not, all of which the broker relies on:
 *
 * 1. Conditional writes. The broker's S3 storage engine keeps each partition's high watermark,
 *    the cluster metadata and the consumer groups' state as JSON objects written with optimistic
 *    concurrency: PUT with `If-None-Match: *` (create) or `If-Match: <etag>` (update), re-reading
 *    the object on `412 Precondition Failed`. A freshly restarted broker has nothing cached, so
 *    its first write of a watermark is a create: a store that ignores the condition lets it
 *    overwrite the watermark with a fresh count, and then the records at offsets 0, 1, ... — every
 *    message acknowledged before the restart is lost. Two producers writing one partition at once
 *    race the same way. This store answers 412 as S3 does.
 * 2. Read-after-write isolation. s3rver writes an object in place, so a read racing a write sees
 *    an empty or half-written object (the broker then fails to parse a watermark). Here every
 *    operation on one key is serialised, reads are buffered inside that turn, and a write goes to
 *    a temporary file renamed over the object, so no reader ever sees a partial object.
 * 3. Crash safety of an object. Objects, their checksums and their metadata are each written to a
 *    temporary file renamed over the old one, so kill -9 of this process mid-write leaves the old
 *    file whole, never a truncated one; temporaries left by a killed store are removed at start.
 *
 * Usage: node store.js DIRECTORY ADDRESS PORT BUCKET
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

const [directory, address, port, bucket] = process.argv.slice(2);
if (!directory || !address || !port || !bucket) {
  console.error('usage: node store.js DIRECTORY ADDRESS PORT BUCKET');
  process.exit(2);
}
fs.mkdirSync(directory, { recursive: true });

// temporary files a killed store left behind never became objects: remove them
(function removeTemporaries(folder) {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) removeTemporaries(full);
    else if (entry.name.endsWith('.tmp')) fs.rmSync(full, { force: true });
  }
})(directory);

const S3Object = require('s3rver/lib/models/object');

let temporaries = 0;
async function writeAtomically(target, content) {
  const temporary = `${target}.${process.pid}.${(temporaries += 1)}.tmp`;
  await fs.promises.writeFile(temporary, content);
  await fs.promises.rename(temporary, target);
}

// metadata and checksum files are replaced whole too (a kill mid-write left an empty metadata file
// that s3rver then failed to parse on every read of the object)
FilesystemStore.prototype.putMetadata = async function putMetadata(objectBucket, key, metadata, md5) {
  const json = {};
  for (const [name, value] of Object.entries(metadata || {})) {
    if (S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')) json[name] = value;
  }
  if (md5) await writeAtomically(this.getResourcePath(objectBucket, key, 'object.md5'), md5);
  await writeAtomically(this.getResourcePath(objectBucket, key, 'metadata.json'), JSON.stringify(json));
};

// an unreadable metadata file (written by an older store, or damaged) counts as none
const readMetadata = FilesystemStore.prototype.getMetadata;
FilesystemStore.prototype.getMetadata = async function getMetadata(objectBucket, key) {
  try {
    return await readMetadata.call(this, objectBucket, key);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    await fs.promises.rm(this.getResourcePath(objectBucket, key, 'metadata.json'), { force: true });
    return readMetadata.call(this, objectBucket, key);
  }
};

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  let content = object.content;
  if (!Buffer.isBuffer(content)) {
    const chunks = [];
    for await (const chunk of content) chunks.push(chunk);
    content = Buffer.concat(chunks);
  }
  const md5 = crypto.createHash('md5').update(content).digest('hex');
  await writeAtomically(objectPath, content);
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size: content.length, md5 };
};

const server = new S3rver({
  directory,
  address,
  port: Number(port),
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});

// one operation at a time per key
const tails = new Map();
async function serialised(key, fn) {
  const previous = tails.get(key) || Promise.resolve();
  let release;
  const mine = new Promise(resolve => (release = resolve));
  const tail = previous.then(() => mine);
  tails.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}

async function drain(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function preconditionFailed(ctx) {
  await drain(ctx.req); // read what the client sends before answering, or it sees a broken connection
  ctx.status = 412;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
    '<Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
}

async function currentEtag(objectBucket, key) {
  if (!(await server.store.existsObject(objectBucket, key))) return null;
  const metadata = await server.store.getMetadata(objectBucket, key);
  return String(metadata.etag || '').replace(/"/g, '');
}

server.middleware.unshift(async (ctx, next) => {
  const [, rawBucket, ...rest] = ctx.path.split('/');
  const key = decodeURIComponent(rest.join('/'));
  if (!rawBucket || !key || !['GET', 'HEAD', 'PUT', 'DELETE'].includes(ctx.method)) return next();
  const objectBucket = decodeURIComponent(rawBucket);
  return serialised(`${objectBucket}/${key}`, async () => {
    if (ctx.method === 'PUT') {
      const noneMatch = ctx.get('if-none-match');
      const match = ctx.get('if-match');
      if (noneMatch || match) {
        const etag = await currentEtag(objectBucket, key);
        if (noneMatch === '*' && etag !== null) return preconditionFailed(ctx);
        if (match && (etag === null || match.replace(/"/g, '') !== etag)) {
          return preconditionFailed(ctx);
        }
      }
    }
    await next();
    if (ctx.body && typeof ctx.body.pipe === 'function') ctx.body = await drain(ctx.body);
  });
});

server.run().then(
  ({ address: host, port: listening }) => console.log(`store listening on ${host}:${listening}`),
  err => {
    console.error(err);
    process.exit(1);
  },
);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close().then(() => process.exit(0)));
}
