// The Dockerfile parser and .dockerignore rules the image test relies on, on the cases Docker documents.
import { describe, expect, it } from 'vitest';
import { argv, DockerIgnore, expand, instructions, parseDockerfile, stageNamed, words } from '../harness/dockerfile.js';

describe('Dockerfile parser', () => {
  it('reads directives, skips comments, joins continuations and drops comment lines inside them', () => {
    const { directives, instructions: list } = instructions(
      ['# syntax=docker/dockerfile:1', '# escape=\\', '', '# a comment', 'FROM debian AS base', 'RUN apt-get update \\', '  # inside', '', ' && apt-get install -y x \\', ' && true', 'run echo hi'].join('\n'),
    );
    expect(directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '\\' });
    expect(list.map((i) => [i.keyword, i.line, i.args])).toEqual([
      ['FROM', 5, 'debian AS base'],
      ['RUN', 6, 'apt-get update  && apt-get install -y x  && true'],
      ['RUN', 11, 'echo hi'],
    ]);
  });

  it('honours the backtick escape directive and refuses heredocs', () => {
    const { instructions: list } = instructions('# escape=`\nFROM x\nRUN a `\n b\nCOPY c:\\dir\\ d');
    expect(list[1]!.args).toBe('a  b');
    expect(list[2]!.args).toBe('c:\\dir\\ d');
    expect(() => instructions('FROM x\nRUN <<EOF\necho\nEOF')).toThrow(/heredocs/);
  });

  it('parses stages, flags, JSON and shell forms, ENV forms, ARG scoping and WORKDIR', () => {
    const file = parseDockerfile(`
ARG BASE=node:20-slim
FROM \${BASE} AS build
WORKDIR /opt
WORKDIR app
ENV A=1 B="two words" C=\${A}x
ENV OLD legacy value
ENV D=\${A}y
RUN --mount=type=cache,target=/root/.npm npm ci
COPY --chown=1:2 . .
FROM \${BASE}
ARG BASE
LABEL "org.x"="\${BASE}" plain=y
COPY --from=build /opt/app/dist ./out/
USER 10001:10001
HEALTHCHECK --interval=5s CMD ["node", "-e", "1"]
ENTRYPOINT ["node", "cli.js"]
CMD run --x
EXPOSE 80 81/udp
VOLUME ["/data"]
STOPSIGNAL SIGTERM
`);
    expect(file.stages.map((s) => [s.name, s.from])).toEqual([['build', 'node:20-slim'], [undefined, 'node:20-slim']]);
    const build = stageNamed(file, 'build');
    expect(build.workdir).toBe('/opt/app');
    // As in Docker, one ENV line sees the values from before it: C gets no A, D does.
    expect(build.env).toEqual({ A: '1', B: 'two words', C: 'x', OLD: 'legacy value', D: '1y' });
    const [runStep, copy] = build.steps;
    expect(runStep).toMatchObject({ kind: 'run', flags: { mount: ['type=cache,target=/root/.npm'] }, command: { form: 'shell', text: 'npm ci' }, workdir: '/opt/app' });
    expect(copy).toMatchObject({ kind: 'copy', chown: '1:2', sources: ['.'], dest: '/opt/app', destIsDir: true });
    const last = file.stages[1]!;
    expect(last.labels).toEqual({ 'org.x': 'node:20-slim', plain: 'y' });
    expect(last.steps[0]).toMatchObject({ from: 'build', sources: ['/opt/app/dist'], dest: '/out', destIsDir: true });
    expect(last.user).toBe('10001:10001');
    expect(last.healthcheck).toEqual({ options: { interval: '5s' }, command: { form: 'exec', argv: ['node', '-e', '1'] } });
    expect(argv(last.cmd!)).toEqual(['/bin/sh', '-c', 'run --x']);
    expect(last.expose).toEqual(['80', '81/udp']);
    expect(last.volumes).toEqual(['/data']);
    expect(last.stopSignal).toBe('SIGTERM');
  });

  it('keeps global ARGs out of stages that do not declare them, and lets build args override', () => {
    const text = 'ARG V=1\nFROM img:${V}\nLABEL v=${V}\nFROM img:${V}\nARG V\nLABEL v=${V}';
    const file = parseDockerfile(text, { buildArgs: { V: '2' } });
    expect(file.stages.map((s) => [s.from, s.labels.v])).toEqual([['img:2', ''], ['img:2', '2']]);
  });

  it('expands variables with defaults and escapes, and splits words with quotes', () => {
    expect(expand('${X:-d} ${Y:+set} $Z \\$Z', { Y: 'y', Z: 'z' })).toBe('d set z $Z');
    expect(words(`a="b c" 'd $Z' e\\ f "g\\"h"`, { Z: 'z' })).toEqual(['a=b c', 'd $Z', 'e f', 'g"h']);
  });

  it('resets an inherited CMD when ENTRYPOINT is set, not one set in the same stage', () => {
    const file = parseDockerfile('FROM a AS one\nCMD ["x"]\nFROM one AS two\nENTRYPOINT ["e"]\nFROM a\nCMD ["c"]\nENTRYPOINT ["e"]');
    expect(file.stages[1]!.cmd).toBeUndefined();
    expect(file.stages[2]!.cmd).toEqual({ form: 'exec', argv: ['c'] });
  });
});

describe('.dockerignore', () => {
  it('anchors patterns at the context root and matches directories with everything in them', () => {
    const ignore = new DockerIgnore('# comment\nnode_modules\n/dist/\nmodels/*.onnx\n**/*.log\n');
    expect(ignore.excludes('node_modules/a/b.js')).toBe(true);
    expect(ignore.excludes('packages/x/node_modules/a.js')).toBe(false);
    expect(ignore.excludes('dist/src/cli.js')).toBe(true);
    expect(ignore.excludes('models/nanodet-416.onnx')).toBe(true);
    expect(ignore.excludes('models/manifest.json')).toBe(false);
    expect(ignore.excludes('models/sub/x.onnx')).toBe(false);
    expect(ignore.excludes('npm-debug.log')).toBe(true);
    expect(ignore.excludes('a/b/c.log')).toBe(true);
    expect(ignore.excludes('src/cli.ts')).toBe(false);
  });

  it('lets the last matching pattern decide, so ! re-includes', () => {
    const ignore = new DockerIgnore('*.md\n!README.md\ndocs\n!docs/keep?.txt\n[a-c]x');
    expect(ignore.excludes('CHANGES.md')).toBe(true);
    expect(ignore.excludes('README.md')).toBe(false);
    expect(ignore.excludes('docs/other.txt')).toBe(true);
    expect(ignore.excludes('docs/keep1.txt')).toBe(false);
    expect(ignore.excludes('bx')).toBe(true);
    expect(ignore.excludes('dx')).toBe(false);
    expect(ignore.hasNegations).toBe(true);
  });
});
