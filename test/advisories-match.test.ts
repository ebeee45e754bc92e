/**
 * Matching advisories' products to devices and SBOM components (src/advisories/match.ts), without a
 * server: model numbers that only share a prefix, and versions an advisory gives only in a
 * product's CPE or purl.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProductIndex, type Advisory, type MatchItem, type Product } from '../src/advisories/index.js';

const advisory = (id: string, products: Product[]): Advisory => ({
  id,
  version: '1',
  title: id,
  publisher: 'Test PSIRT',
  released: '2026-01-01T00:00:00Z',
  products: new Map(products.map((p) => [p.id, p])),
  vulnerabilities: [],
});
const device = (model: string, reportedVersion?: string, extra: Partial<MatchItem> = {}): MatchItem => ({
  deviceId: 'dev-1',
  vendor: 'Acme Medical',
  model,
  ...(reportedVersion ? { reportedVersion } : {}),
  components: [],
  ...extra,
});

test('a model number that is a prefix of another is another model: Infusa 50 is not Infusa 500', () => {
  const index = new ProductIndex([advisory('A-1', [{ id: 'P1', vendor: 'Acme Medical', name: 'Infusa 50', range: 'vers:generic/<3.0' }])]);
  assert.deepEqual(index.matches(device('Infusa 500', '2.0')), []);
  assert.deepEqual(index.matches(device('Infusa 5', '2.0')), []);
  assert.equal(index.matches(device('Infusa 50', '2.0'))[0]?.certainty, 'range');
  // A name written differently but with the same model number is still close: an engineer decides.
  assert.equal(index.matches(device('Infusa-50 Pump', '2.0'))[0]?.certainty, 'uncertain');
});

test("a product's version given only in its CPE or purl decides a name match", () => {
  const index = new ProductIndex([
    advisory('A-2', [
      { id: 'Z1', name: 'zlib', purl: 'pkg:generic/zlib@1.2.11' },
      { id: 'V1', vendor: 'Acme Medical', name: 'Infusa 700', cpe: 'cpe:2.3:h:acme_medical:infusa_700:3.0:*:*:*:*:*:*:*' },
    ]),
  ]);
  const withComponent = (version: string) => device('Vista 12', undefined, { vendor: 'Vista', components: [{ name: 'zlib', version }] });
  assert.deepEqual(index.matches(withComponent('1.3.1')), [], 'another version of the component is not hit');
  assert.deepEqual(
    index.matches(withComponent('1.2.11')).map((m) => [m.productId, m.certainty]),
    [['Z1', 'uncertain']],
    'the same version by name alone: an engineer confirms',
  );
  assert.deepEqual(index.matches(device('Infusa 700', '2.0')), [], 'the device runs another version than the CPE names');
  assert.deepEqual(
    index.matches(device('Infusa 700', '3.0')).map((m) => [m.productId, m.certainty]),
    [['V1', 'exact']],
  );
});

test('CPE 2.2 URIs and CPE 2.3 strings name the same product', () => {
  const index = new ProductIndex([advisory('A-3', [{ id: 'C1', vendor: 'Acme', name: 'Infusa 700', cpe: 'cpe:/h:acme_medical:infusa_700:3.0' }])]);
  const withCpe = (cpe: string, reportedVersion?: string) => device('Pump', reportedVersion, { vendor: 'Someone Else', cpe });
  assert.deepEqual(
    index.matches(withCpe('cpe:2.3:h:acme_medical:infusa_700:3\\.0:*:*:*:*:*:*:*')).map((m) => [m.productId, m.certainty]),
    [['C1', 'exact']],
  );
  assert.deepEqual(
    index.matches(withCpe('cpe:2.3:h:acme_medical:infusa_700:*:*:*:*:*:*:*:*', '3.0')).map((m) => m.certainty),
    ['exact'],
  );
  assert.deepEqual(index.matches(withCpe('cpe:2.3:h:acme_medical:infusa_700:2.9:*:*:*:*:*:*:*')), []);
  assert.deepEqual(index.matches(withCpe('cpe:/h:acme_medical:infusa_700:2.9')), []);
  assert.deepEqual(
    index.matches(withCpe('cpe:/h:acme_medical:infusa_700')).map((m) => m.certainty),
    ['uncertain'],
    'no version on either side: unknown',
  );
  assert.deepEqual(index.matches(withCpe('cpe:/h:acme_medical:infusa_70')), []);
});
