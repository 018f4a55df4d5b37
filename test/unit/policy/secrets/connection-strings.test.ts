import { describe, expect, it } from 'vitest';
import { detectSecret, findCredentialFormat } from '../../../../src/policy/secrets/detect.js';
import { fake, randomish } from './fake-credentials.js';

// keyword=value connection strings (ADO.NET, ODBC, Azure, libpq, StackExchange.Redis): the secret is one pair.
const password = () => randomish('abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789', 14, 80);

const secrets: [name: string, value: string, kind: string][] = [
  [
    'AZURE_STORAGE_CONNECTION_STRING',
    `DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=${fake.azureAccountKey()};EndpointSuffix=core.windows.net`,
    'connection-string-credentials',
  ],
  [
    'SERVICEBUS_CONNECTION',
    `Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${fake.azureSharedAccessKey()}`,
    'connection-string-credentials',
  ],
  [
    'COSMOS_CONNECTION',
    `AccountEndpoint=https://demo.documents.azure.com:443/;AccountKey=${fake.azureAccountKey()};`,
    'connection-string-credentials',
  ],
  [
    'STORAGE',
    `BlobEndpoint=https://demo.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=${fake.sasSignature()}`,
    'azure-shared-access-signature',
  ],
  [
    'SQL_CONNECTION',
    `Server=db;Database=app;User Id=sa;Password=${password()};`,
    'connection-string-credentials',
  ],
  [
    'ConnectionStrings__Default',
    `Data Source=db,1433;Initial Catalog=app;User ID=app;Password="${password()};x";`,
    'connection-string-credentials',
  ],
  [
    'ODBC_DSN',
    `Driver={ODBC Driver 18 for SQL Server};Server=db;Uid=sa;Pwd={${password()};};`,
    'connection-string-credentials',
  ],
  ['MYSQL_CONN', `Server=db;Port=3306;Uid=app;Pwd=${password()}`, 'connection-string-credentials'],
  ['PG_DSN', `host=db port=5432 user=app password=${password()} dbname=app`, 'connection-string-credentials'],
  [
    'REDIS_CONNECTION',
    `cache.internal:6380,password=${password()},ssl=True`,
    'connection-string-credentials',
  ],
  // A weak password is still a password.
  ['DB_CONN', 'Server=db;Database=app;User Id=sa;Password=sa;', 'connection-string-credentials'],
];

const benign: [name: string, value: string][] = [
  ['AZURE_STORAGE_CONNECTION_STRING', 'UseDevelopmentStorage=true'],
  ['SQL_CONNECTION', 'Server=db;Database=app;Integrated Security=SSPI;'],
  ['SQL_CONNECTION', 'Server=db;Database=app;Trusted_Connection=True;'],
  ['SQL_CONNECTION', `Server=db;Database=app;User Id=sa;Password=\${DB_PASSWORD};`],
  ['SQL_CONNECTION', 'Server=db;Database=app;User Id=sa;Password=;'],
  ['SQL_CONNECTION', 'Server=db;Database=app;User Id=sa;Password=<password>;'],
  ['ODBC_DSN', 'Driver={ODBC Driver 18};Server=db;Uid=sa;Pwd={your_password};'],
  ['STORAGE', 'DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=%env(STORAGE_KEY)%'],
  ['PG_DSN', 'host=db port=5432 user=app dbname=app sslmode=require'],
  ['OPTIONS', 'a=1;password=x'],
];

describe('connection strings in keyword=value form', () => {
  it.each(secrets)('%s with a key or password in it is a secret', (name, value, kind) => {
    expect(detectSecret(name, value)?.kind).toBe(kind);
  });

  it.each(benign)('%s=%j is not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it('finds a connection string typed into a RUN command', () => {
    const command = `dotnet app.dll --cs "Server=db;Database=app;User Id=sa;Password=${password()}"`;
    expect(findCredentialFormat(command, { shell: true })?.kind).toBe('connection-string-credentials');
  });

  it('does not read shell commands separated by ; as a connection string', () => {
    expect(
      findCredentialFormat('set -eux; password=$(openssl rand -hex 16); export password'),
    ).toBeUndefined();
    expect(findCredentialFormat('cd /src; make PASSWORD_MIN=8; make install')).toBeUndefined();
  });
});
