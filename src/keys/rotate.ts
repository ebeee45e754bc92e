/**
 * Master key rotation: a new key becomes current, every data key is re-wrapped under it, and keys
 * no data key uses any more leave the key file. Records themselves are not re-encrypted (their
 * data keys do not change), so this takes seconds even for a large clinic and runs while serving.
 */
import { addKeyToFile, loadMasterKeys, retireKeysInFile } from './masterKeys.js';
import type { Keyring } from './keyring.js';

export interface RotationResult {
  rewrapped: number;
  currentKeyId: string;
  retired: string[];
}

/** Time for other processes to notice the new key file before the second pass. */
const SETTLE_MS = 2000;

export async function rotateMasterKey(keyring: Keyring, dataDir: string, onProgress?: (done: number, total: number) => void): Promise<RotationResult> {
  const before = loadMasterKeys(dataDir);
  // The new key goes into the file first, so that running processes can unwrap what is re-wrapped.
  const after = addKeyToFile(before);
  keyring.setMasterKeys(after);
  let rewrapped = await keyring.rewrapAll(onProgress);
  // A process that made a data key just before it noticed the new file wrapped it with the old key:
  // a second pass after they have had time to notice catches those.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  rewrapped += await keyring.rewrapAll();
  const inUse = await keyring.masterKeysInUse();
  const final = retireKeysInFile(after, inUse);
  keyring.setMasterKeys(final);
  return { rewrapped, currentKeyId: after.currentId, retired: [...before.keys.keys()].filter((id) => !final.keys.has(id)) };
}
