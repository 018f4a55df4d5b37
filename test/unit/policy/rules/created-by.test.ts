import { describe, expect, it } from 'vitest';
import { parseCreatedBy, shellAssignments } from '../../../../src/policy/rules/created-by.js';

type Expected = { name: string; value: string; source: string }[];

const cases: [createdBy: string, assignments: Expected, command: string | undefined][] = [
  [
    '|1 myarg=zzz /bin/sh -c apk update',
    [{ name: 'myarg', value: 'zzz', source: 'build-arg' }],
    'apk update',
  ],
  [
    'RUN |2 NODE_ENV=production API_TOKEN=abc /bin/sh -c npm ci # buildkit',
    [
      { name: 'NODE_ENV', value: 'production', source: 'build-arg' },
      { name: 'API_TOKEN', value: 'abc', source: 'build-arg' },
    ],
    'npm ci',
  ],
  [
    'RUN |1 GPG_KEYS=39B6 E609 1198 /bin/sh -c set -eux; ./configure # buildkit',
    [{ name: 'GPG_KEYS', value: '39B6 E609 1198', source: 'build-arg' }],
    'set -eux; ./configure',
  ],
  [
    'RUN |1 TOKEN=abc make install # buildkit',
    [{ name: 'TOKEN', value: 'abc', source: 'build-arg' }],
    'make install',
  ],
  [
    '/bin/sh -c #(nop)  ENV JAVA_HOME=/usr/local/openjdk-11',
    [{ name: 'JAVA_HOME', value: '/usr/local/openjdk-11', source: 'env' }],
    undefined,
  ],
  [
    '/bin/sh -c #(nop) ENV ABC=hello PASS= ',
    [
      { name: 'ABC', value: 'hello', source: 'env' },
      { name: 'PASS', value: '', source: 'env' },
    ],
    undefined,
  ],
  [
    '/bin/sh -c #(nop)  ENV GOLANG_VERSION 1.22.1',
    [{ name: 'GOLANG_VERSION', value: '1.22.1', source: 'env' }],
    undefined,
  ],
  ['/bin/sh -c #(nop)  ARG LAUNCHPAD_BUILD_ARCH', [], undefined],
  [
    '/bin/sh -c #(nop)  ARG DEBIAN_FRONTEND=noninteractive',
    [{ name: 'DEBIAN_FRONTEND', value: 'noninteractive', source: 'arg' }],
    undefined,
  ],
  ['ENV TEST=foo bar', [{ name: 'TEST', value: 'foo bar', source: 'env' }], undefined],
  ['ARG TAG="latest"', [{ name: 'TAG', value: 'latest', source: 'arg' }], undefined],
  ['/bin/sh -c #(nop) COPY dir:3a02 in ./files |inheritLabels=false', [], undefined],
  ['USER root', [], undefined],
  ['apko', [], undefined],
  [
    '/bin/sh -c SECRET=abc VAR2=VALUE2 echo "Do something"',
    [
      { name: 'SECRET', value: 'abc', source: 'run' },
      { name: 'VAR2', value: 'VALUE2', source: 'run' },
    ],
    'SECRET=abc VAR2=VALUE2 echo "Do something"',
  ],
  [
    '/bin/sh -c HELLO="PASS=\\"notThis\\"" echo "false positive"',
    [{ name: 'HELLO', value: 'PASS="notThis"', source: 'run' }],
    'HELLO="PASS=\\"notThis\\"" echo "false positive"',
  ],
  ["/bin/sh -c echo 'secret = foo;' > test.conf", [], "echo 'secret = foo;' > test.conf"],
];

describe('parseCreatedBy', () => {
  it.each(cases)('%j', (createdBy, assignments, command) => {
    const parsed = parseCreatedBy(createdBy);
    expect(parsed.assignments).toEqual(assignments);
    expect(parsed.command).toBe(command);
  });
});

describe('shellAssignments', () => {
  it('finds assignments at every command start and after export, not in arguments or quotes', () => {
    const script = [
      "set -eux; key='B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8';",
      'export GNUPGHOME="$(mktemp -d)";',
      'gpg --batch --keyserver keyserver.ubuntu.com --recv-keys "$key";',
      'if true; then A=1 B="two words" make; fi && C=3 ./run --flag D=4 "E=5" \'F=6\'',
      '&& export G=7 H=8',
    ].join(' \\\n\t');
    expect(shellAssignments(script)).toEqual([
      { name: 'key', value: 'B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8' },
      { name: 'GNUPGHOME', value: '$(mktemp -d)' },
      { name: 'A', value: '1' },
      { name: 'B', value: 'two words' },
      { name: 'C', value: '3' },
      { name: 'G', value: '7' },
      { name: 'H', value: '8' },
    ]);
  });

  it('parses a huge command quickly', () => {
    const started = performance.now();
    shellAssignments(`A=${'"'.repeat(100_000)} ${"'x'=".repeat(100_000)} ${'$('.repeat(50_000)}`);
    parseCreatedBy(`|1 ${'A=b '.repeat(200_000)}/bin/sh -c ${'x=y; '.repeat(100_000)}`);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
