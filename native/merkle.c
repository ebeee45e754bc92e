/*
 * Batched SHA-256 for the audit log's Merkle tree (RFC 6962), over OpenSSL's SHA-256 as linked into
 * Node itself (the same code node:crypto runs, with the CPU's SHA extensions where it has them).
 *
 * Why native: verifying the log makes two SHA-256 calls per record (the leaf, and one interior node
 * on average). Through node:crypto each call costs about 0.3 us of JavaScript-to-C++ crossing for a
 * hash that itself takes 0.05-0.3 us, so verification spent most of its time crossing. One call
 * here hashes a whole chunk of leaves, or a whole level of nodes. src/audit/batchHash.ts loads it
 * when it was built and falls back to node:crypto, with identical results, when it was not.
 *
 * Also raw DEFLATE inflation into a buffer the caller keeps (the audit log's bundles are stored
 * compressed, src/audit/leafStore.ts), over the zlib linked into Node: node:zlib allocates a new
 * output buffer and zlib stream per call, which for verification's thousands of 160 KB bundles cost
 * as much again as inflating them.
 */
#include <node_api.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "merkle: bad arguments"); return NULL; } } while (0)

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

/*
 * sha256Each(data: Uint8Array, bounds: Int32Array, prefix: number, out: Uint8Array): void
 * For each i < bounds.length / 2: out[32i..32i+32) = SHA-256(prefix byte || data[bounds[2i]..bounds[2i+1])),
 * without the prefix byte when prefix is -1 (plain SHA-256, the raw rate the benchmark compares with).
 */
static napi_value sha256Each(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *data, *out;
  int32_t *bounds;
  size_t dataLen, boundsLen, outLen;
  int32_t prefix;
  if (argc < 4 || !typed(env, argv[0], napi_uint8_array, (void **)&data, &dataLen) || !typed(env, argv[1], napi_int32_array, (void **)&bounds, &boundsLen) ||
      napi_get_value_int32(env, argv[2], &prefix) != napi_ok || !typed(env, argv[3], napi_uint8_array, (void **)&out, &outLen)) {
    napi_throw_type_error(env, NULL, "sha256Each(data, bounds, prefix, out)");
    return NULL;
  }
  size_t n = boundsLen / 2;
  if (outLen < n * 32) { napi_throw_range_error(env, NULL, "sha256Each: out too small"); return NULL; }
  for (size_t i = 0; i < n; i++) {
    int32_t s = bounds[2 * i], e = bounds[2 * i + 1];
    if (s < 0 || e < s || (size_t)e > dataLen) { napi_throw_range_error(env, NULL, "sha256Each: bounds outside data"); return NULL; }
  }
  uint8_t p = (uint8_t)prefix;
  for (size_t i = 0; i < n; i++) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    if (prefix >= 0) SHA256_Update(&ctx, &p, 1);
    SHA256_Update(&ctx, data + bounds[2 * i], (size_t)(bounds[2 * i + 1] - bounds[2 * i]));
    SHA256_Final(out + 32 * i, &ctx);
  }
  return NULL;
}

/*
 * parentLevel(children: Uint8Array, out: Uint8Array): number
 * RFC 6962 interior nodes of one level: out[32i..) = SHA-256(0x01 || child[2i] || child[2i+1]) for each
 * complete pair of the 32-byte hashes in children; returns how many it wrote.
 */
static napi_value parentLevel(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *children, *out;
  size_t childLen, outLen;
  if (argc < 2 || !typed(env, argv[0], napi_uint8_array, (void **)&children, &childLen) || !typed(env, argv[1], napi_uint8_array, (void **)&out, &outLen)) {
    napi_throw_type_error(env, NULL, "parentLevel(children, out)");
    return NULL;
  }
  size_t pairs = childLen / 64;
  if (outLen < pairs * 32) { napi_throw_range_error(env, NULL, "parentLevel: out too small"); return NULL; }
  /* The low-level calls, not the one-shot SHA256(): in OpenSSL 3 that one looks the algorithm up on
     every call, which costs more than hashing 65 bytes. */
  const uint8_t one = 1;
  for (size_t i = 0; i < pairs; i++) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &one, 1);
    SHA256_Update(&ctx, children + 64 * i, 64);
    SHA256_Final(out + 32 * i, &ctx);
  }
  napi_value result;
  CHECK(napi_create_uint32(env, (uint32_t)pairs, &result));
  return result;
}

/*
 * inflateRawInto(src: Uint8Array, dst: Uint8Array): number
 * Inflates the raw DEFLATE stream (RFC 1951) at the start of src into dst; returns the bytes
 * written, or -1 when src does not hold a complete stream whose output fits in dst. Bytes after
 * the stream's end are ignored, as node:zlib ignores them. What dst holds past the bytes written
 * is unspecified (zlib may copy in wide chunks within the room given).
 */
static napi_value inflateRawInto(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *src, *dst;
  size_t srcLen, dstLen;
  if (argc < 2 || !typed(env, argv[0], napi_uint8_array, (void **)&src, &srcLen) || !typed(env, argv[1], napi_uint8_array, (void **)&dst, &dstLen)) {
    napi_throw_type_error(env, NULL, "inflateRawInto(src, dst)");
    return NULL;
  }
  if (srcLen > UINT32_MAX || dstLen > UINT32_MAX) { napi_throw_range_error(env, NULL, "inflateRawInto: buffers of 4 GiB or more"); return NULL; }
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, -15) != Z_OK) { napi_throw_error(env, NULL, "inflateRawInto: zlib could not start"); return NULL; }
  zs.next_in = src;
  zs.avail_in = (uInt)srcLen;
  uint8_t none; /* zlib refuses a null output pointer, even for no room */
  zs.next_out = dstLen > 0 ? dst : &none;
  zs.avail_out = (uInt)dstLen;
  int rc = inflate(&zs, Z_FINISH);
  double written = rc == Z_STREAM_END ? (double)zs.total_out : -1;
  inflateEnd(&zs);
  napi_value result;
  CHECK(napi_create_double(env, written, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "sha256Each", NULL, sha256Each, NULL, NULL, NULL, napi_default, NULL },
    { "parentLevel", NULL, parentLevel, NULL, NULL, NULL, napi_default, NULL },
    { "inflateRawInto", NULL, inflateRawInto, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}
