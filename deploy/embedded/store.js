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
 * 4. Listing in memory. The broker lists a partition's record batches on every fetch. s3rver
 *    answers a listing by walking the directory synchronously and reading every object's metadata
 *    and checksum files, so a fetch cost grew with the partition's length and blocked every other
 *    request meanwhile (a few thousand batches made the store the hub's bottleneck). Here an index of
 *    every object's metadata (etag, size, time, content type: about 200 bytes an object) is built
 *    once at start from the files and kept by every write and delete; listings, existence checks and
 *    metadata reads are answered from it. Object contents are still read from the files.
 *
 * 5. Listings longer than a page. s3rver makes the continuation token of a truncated listing (more
 *    than 1,000 keys) with single DES, which the OpenSSL 3 of current Node.js refuses: every such
 *    listing failed with InternalError, so the broker could not fetch from a partition holding more
 *    than 1,000 record batches. Single DES is two-key triple DES with both keys equal, which OpenSSL 3
 *    still has: the same tokens, made by a cipher that exists.
 *
 * 6. Retention. The broker stores a topic's retention.ms but deletes nothing, so every partition
 *    grew for ever, and with it the cost of each fetch (the broker lists a partition's batches on
 *    every fetch). HUB_STORE_RETENTION_MS, a JSON map topic -> milliseconds (the supervisor passes
 *    the hub's topic retentions), makes this store delete a record batch of such a topic once it is
 *    older than the retention, always keeping the newest batch of each partition; a sweep runs every
 *    HUB_STORE_SWEEP_SECONDS (60). A consumer whose position lies in what was deleted reads on from
 *    the next batch kept, as from a Kafka log whose start moved. Topics not in the map (the stream
 *    workers' changelogs) are kept whole.
 *
 * Usage: node store.js DIRECTORY ADDRESS PORT BUCKET
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
// 5. above: s3rver's continuation tokens with a cipher OpenSSL 3 still has (must precede s3rver's use)
const createCipheriv = crypto.createCipheriv;
const createDecipheriv = crypto.createDecipheriv;
const singleDes = (make) => (algorithm, key, iv, ...rest) =>
  algorithm === 'des'
    ? make.call(crypto, 'des-ede-cbc', Buffer.concat([Buffer.from(key), Buffer.from(key)]), iv, ...rest)
    : make.call(crypto, algorithm, key, iv, ...rest);
crypto.createCipheriv = singleDes(createCipheriv);
crypto.createDecipheriv = singleDes(createDecipheriv);

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

// ------------------------------------------------------------ the metadata index (4. above)
const index = new Map(); // bucket -> Map(key -> metadata as FilesystemStore#getMetadata returns it)
const sortedKeys = new Map(); // bucket -> keys in ascending order (UTF-16 order, as s3rver sorts)
let indexReady = null; // a promise, set before the server starts

function lowerBound(keys, probe) {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < probe) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function remember(bucketName, key, metadata) {
  if (!index.has(bucketName)) {
    index.set(bucketName, new Map());
    sortedKeys.set(bucketName, []);
  }
  const objects = index.get(bucketName);
  if (!objects.has(key)) {
    const keys = sortedKeys.get(bucketName);
    const at = lowerBound(keys, key);
    if (keys[at] !== key) keys.splice(at, 0, key);
  }
  objects.set(key, metadata);
}

function forget(bucketName, key) {
  const objects = index.get(bucketName);
  if (!objects || !objects.delete(key)) return;
  const keys = sortedKeys.get(bucketName);
  const at = lowerBound(keys, key);
  if (keys[at] === key) keys.splice(at, 1);
}

const readMetadataFromFiles = FilesystemStore.prototype.getMetadata;
async function refresh(store, bucketName, key) {
  forget(bucketName, key);
  try {
    remember(bucketName, key, await readMetadataFromFiles.call(store, bucketName, key));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
}

FilesystemStore.prototype.getMetadata = async function getMetadata(bucketName, key) {
  await indexReady;
  const known = index.get(bucketName) && index.get(bucketName).get(key);
  if (known) return { ...known };
  const err = new Error(`no such object: ${key}`);
  err.code = 'ENOENT';
  throw err;
};

FilesystemStore.prototype.existsObject = async function existsObject(bucketName, key) {
  await indexReady;
  return Boolean(index.get(bucketName) && index.get(bucketName).has(key));
};

const putObjectToFiles = FilesystemStore.prototype.putObject;
FilesystemStore.prototype.putObject = async function putObject(object) {
  await indexReady;
  try {
    return await putObjectToFiles.call(this, object); // its putMetadata refreshes the index entry
  } catch (err) {
    await refresh(this, object.bucket, object.key);
    throw err;
  }
};

const putMetadataToFiles = FilesystemStore.prototype.putMetadata;
FilesystemStore.prototype.putMetadata = async function putMetadata(bucketName, key, metadata, md5) {
  await indexReady;
  try {
    return await putMetadataToFiles.call(this, bucketName, key, metadata, md5);
  } finally {
    await refresh(this, bucketName, key);
  }
};

const copyObjectInFiles = FilesystemStore.prototype.copyObject;
FilesystemStore.prototype.copyObject = async function copyObject(srcBucket, srcKey, destBucket, destKey, meta) {
  await indexReady;
  try {
    return await copyObjectInFiles.call(this, srcBucket, srcKey, destBucket, destKey, meta);
  } finally {
    await refresh(this, destBucket, destKey);
  }
};

const deleteObjectFromFiles = FilesystemStore.prototype.deleteObject;
FilesystemStore.prototype.deleteObject = async function deleteObject(bucketName, key) {
  await indexReady;
  try {
    return await deleteObjectFromFiles.call(this, bucketName, key);
  } finally {
    forget(bucketName, key);
  }
};

const listObjectsInFiles = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function listObjects(bucketName, options) {
  await indexReady;
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const keys = sortedKeys.get(bucketName) || [];
  const objects = index.get(bucketName) || new Map();
  const commonPrefixes = new Set();
  const found = [];
  let isTruncated = false;
  for (let i = lowerBound(keys, startAfter > prefix ? startAfter : prefix); i < keys.length; i += 1) {
    const key = keys[i];
    if (!key.startsWith(prefix)) break;
    if (key <= startAfter) continue;
    if (delimiter) {
      const at = key.slice(prefix.length).indexOf(delimiter);
      if (at !== -1) {
        commonPrefixes.add(key.slice(0, prefix.length + at + 1));
        continue;
      }
    }
    if (found.length >= maxKeys) {
      isTruncated = true;
      break;
    }
    found.push(new S3Object(bucketName, key, null, { ...objects.get(key) }));
  }
  return { objects: found, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};

// A bucket's configuration (CORS, website) is read by s3rver's middleware on every request: keep it
// in memory, as the configuration changes only through the store itself.
const subresources = new Map();
const getSubresourceFromFiles = FilesystemStore.prototype.getSubresource;
FilesystemStore.prototype.getSubresource = async function getSubresource(bucketName, key, type) {
  const name = `${bucketName}\u0000${key || ''}\u0000${type}`;
  if (!subresources.has(name)) {
    subresources.set(name, await getSubresourceFromFiles.call(this, bucketName, key, type));
  }
  return subresources.get(name);
};
for (const method of ['putSubresource', 'deleteSubresource']) {
  const original = FilesystemStore.prototype[method];
  FilesystemStore.prototype[method] = async function changeSubresource(...args) {
    subresources.clear();
    try {
      return await original.apply(this, args);
    } finally {
      subresources.clear();
    }
  };
}

async function buildIndex(root) {
  const files = new FilesystemStore(root);
  files.getMetadata = readMetadataFromFiles; // from the files: the index is what is being built
  if (!fs.existsSync(root)) return;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const listing = await listObjectsInFiles.call(files, entry.name, {});
    for (const object of listing.objects) remember(entry.name, object.key, object.metadata);
  }
}

const server = new S3rver({
  directory,
  address,
  port: Number(port),
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});

// The request logger formats a coloured line for every request even when silent: leave it out
// (s3rver's own logger, used for warnings and errors, stays).
server.middleware = server.middleware.filter(fn => fn.name !== 'logger');

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

// ------------------------------------------------------------ retention (6. above)
const retentionMs = JSON.parse(process.env.HUB_STORE_RETENTION_MS || '{}');
const RECORD_BATCH = /^clusters\/[^/]+\/topics\/([^/]+)\/partitions\/(\d+)\/records\/\d+\.batch$/;

async function sweep(now = Date.now()) {
  await indexReady;
  const newest = new Map(); // partition -> key of its newest batch (keys sort by offset)
  const expired = [];
  for (const [bucketName, keys] of sortedKeys) {
    const objects = index.get(bucketName);
    for (const key of keys) {
      const match = RECORD_BATCH.exec(key);
      if (!match || !(retentionMs[match[1]] > 0)) continue;
      const partition = `${bucketName}/${match[1]}/${match[2]}`;
      newest.set(partition, key);
      const modified = Date.parse(objects.get(key)['last-modified']);
      if (now - modified > retentionMs[match[1]]) expired.push([bucketName, key, partition]);
    }
  }
  let removed = 0;
  for (const [bucketName, key, partition] of expired) {
    if (newest.get(partition) === key) continue;
    await serialised(`${bucketName}/${key}`, () => server.store.deleteObject(bucketName, key));
    removed += 1;
  }
  if (removed > 0) console.log(`retention: removed ${removed} record batches`);
  return removed;
}

if (Object.keys(retentionMs).length > 0) {
  const every = 1000 * Number(process.env.HUB_STORE_SWEEP_SECONDS || 60);
  let sweeping = false;
  setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweep()
      .catch(err => console.error(`retention sweep failed: ${err.message}`))
      .finally(() => {
        sweeping = false;
      });
  }, every).unref();
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

indexReady = buildIndex(directory);
indexReady
  .then(() => server.run())
  .then(address => {
    // Keep idle connections open longer than the broker's HTTP client keeps them (90 s): Node's
    // 5 s default closed connections the client was about to reuse, and the broker's write on
    // such a connection failed with "connection reset by peer".
    server.httpServer.keepAliveTimeout = 120000;
    server.httpServer.headersTimeout = 125000;
    return address;
  })
  .then(
  ({ address: host, port: listening }) => console.log(`store listening on ${host}:${listening}`),
  err => {
    console.error(err);
    process.exit(1);
  },
);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close().then(() => process.exit(0)));
}
