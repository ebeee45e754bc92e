/**
 * S3-compatible object storage (@aws-sdk/client-s3). Every object is written with Object Lock
 * retention in COMPLIANCE mode (nobody, not even the account's root, can delete or shorten it
 * until it expires) and with `If-None-Match: *`, so the store itself refuses an overwrite where it
 * supports conditional writes. Whether the bucket has Object Lock enabled is checked when the
 * backend is opened (`objectLock`); stores without it (s3rver, used by the tests) get the headers
 * anyway and the existence check before each write is then the only guard against overwrites.
 *
 * Address: s3://bucket/prefix?endpoint=http://host:port&region=us-east-1&retentionDays=90;
 * credentials from the usual AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
 */
import { GetObjectCommand, GetObjectLockConfigurationCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { checkObjectName, ObjectExistsError, ObjectNotFoundError, type Backend, type Prefix } from './backend.js';

export class S3Backend implements Backend {
  readonly description: string;
  objectLock: boolean | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly retentionDays: number,
  ) {
    this.description = `s3://${bucket}/${prefix}`;
  }

  static fromAddress(address: string, credentials?: { accessKeyId: string; secretAccessKey: string }): S3Backend {
    const url = new URL(address);
    const endpoint = url.searchParams.get('endpoint') ?? undefined;
    const retentionDays = Number(url.searchParams.get('retentionDays') ?? 90);
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error('s3: retentionDays must be a whole number of days, at least 1');
    const client = new S3Client({
      region: url.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
      endpoint,
      forcePathStyle: Boolean(endpoint),
      ...(credentials ? { credentials } : {}),
      // Plain checksums only where an operation needs one: other S3-compatible stores do not all read
      // the SDK's newer streaming trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return new S3Backend(client, url.hostname, url.pathname.replace(/^\/+/, '').replace(/\/?$/, url.pathname.length > 1 ? '/' : ''), retentionDays);
  }

  /** Whether the bucket has Object Lock enabled (false for a store that does not implement it). */
  async detectObjectLock(): Promise<boolean> {
    try {
      const r = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }));
      this.objectLock = r.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch {
      this.objectLock = false;
    }
    return this.objectLock;
  }

  private key(name: string): string {
    return this.prefix + checkObjectName(name);
  }

  async put(name: string, data: Buffer): Promise<void> {
    if (this.objectLock === undefined) await this.detectObjectLock();
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      throw new ObjectExistsError(`${name} already exists`);
    } catch (err) {
      if (err instanceof ObjectExistsError) throw err;
      if ((err as { name?: string }).name !== 'NotFound' && (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw err;
    }
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(name),
          Body: data,
          IfNoneMatch: '*',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() + this.retentionDays * 86_400_000),
        }),
      );
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) throw new ObjectExistsError(`${name} already exists`);
      throw err;
    }
  }

  async get(name: string): Promise<Buffer> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        throw new ObjectNotFoundError(`${name} is not in the repository`);
      }
      throw err;
    }
  }

  async list(prefix: Prefix): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(this.prefix.length));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }
}
