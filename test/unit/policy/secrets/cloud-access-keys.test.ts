import { describe, expect, it } from 'vitest';
import { detectSecret } from '../../../../src/policy/secrets/detect.js';
import { fake } from './fake-credentials.js';

// Access key ids of clouds other than AWS: Alibaba (LTAI…) and Tencent (AKID…) by their prefix under any name;
// Huawei (AK/SK), IBM (HMAC access key id, API key) by a generated value under the provider's variable names.
const secrets: [name: string, value: string, kind: string][] = [
  ['ALIBABA_CLOUD_ACCESS_KEY_ID', fake.alibabaAccessKeyId(), 'alibaba-access-key-id'],
  ['OSS_ID', fake.alibabaAccessKeyId().slice(0, 16), 'alibaba-access-key-id'],
  ['TENCENTCLOUD_SECRET_ID', fake.tencentSecretId(), 'tencent-secret-id'],
  ['SOME_SETTING', fake.tencentSecretId(), 'tencent-secret-id'],
  ['CLOUD_SDK_AK', fake.huaweiAccessKey(), 'high-entropy-under-secret-name'],
  ['HUAWEICLOUD_SDK_SK', fake.awsSecretAccessKey(), 'high-entropy-under-secret-name'],
  ['HUAWEICLOUD_ACCESS_KEY_ID', fake.huaweiAccessKey(), 'cloud-access-key-id'],
  ['COS_HMAC_ACCESS_KEY_ID', fake.ibmHmacAccessKeyId(), 'cloud-access-key-id'],
  ['IBMCLOUD_API_KEY', fake.ibmApiKey(), 'token-under-secret-name'],
  ['IC_API_KEY', fake.ibmApiKey(), 'token-under-secret-name'],
];

const benign: [name: string, value: string][] = [
  ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'LTAI5tEXAMPLEEXAMPLE1234'],
  ['ALIBABA_CLOUD_ACCESS_KEY_ID', `LTAI${'X'.repeat(20)}`],
  ['TENCENTCLOUD_SECRET_ID', `AKID${'x'.repeat(32)}`],
  ['AWS_ACCESS_KEY_ID', 'minioadmin'],
  ['AWS_ACCESS_KEY_ID', 'accesskey'],
  ['CLOUD_SDK_AK', 'your-access-key'],
  ['HUAWEICLOUD_ACCESS_KEY_ID', 'HUAWEICLOUD_ACCESS_KEY_ID'],
  ['COS_HMAC_ACCESS_KEY_ID', '0123456789abcdef0123456789abcdef'],
  ['LANG_SK', 'sk_SK.UTF-8'],
  ['CLIENT_ID', fake.ibmHmacAccessKeyId()],
];

describe('cloud access key ids', () => {
  it.each(secrets)('%s is a secret', (name, value, kind) => {
    expect(detectSecret(name, value)?.kind).toBe(kind);
  });

  it.each(benign)('%s=%j is not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });
});
