/** One rule for writing a person's name (src/shared/humanName.ts): the patient list, the look-up, the staff directory. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writtenName } from '../src/shared/index.js';

test('the official name before others; its text as written, else given names then family', () => {
  assert.equal(
    writtenName([
      { use: 'nickname', given: ['Bo'] },
      { use: 'official', given: ['Bo', 'Erik'], family: 'Lindqvist' },
    ]),
    'Bo Erik Lindqvist',
  );
  assert.equal(writtenName([{ text: ' Paula Oyelaran ', given: ['P'], family: 'O' }]), 'Paula Oyelaran');
  assert.equal(writtenName([{ given: ['Ana'], family: 'Ruiz', prefix: ['Dr'] }]), 'Ana Ruiz', 'no prefix unless asked');
  assert.equal(writtenName([{ given: ['Ana'], family: 'Ruiz', prefix: ['Dr'] }], { prefix: true }), 'Dr Ana Ruiz');
});

test('no name, or one with nothing written in it, is no name', () => {
  assert.equal(writtenName(undefined), undefined);
  assert.equal(writtenName([]), undefined);
  assert.equal(writtenName([{ text: '  ', given: [''], family: '' }]), undefined);
});
