// Language setups for the editors: expr (see expr.ts), JavaScript for
// code.js sources, JSON for schemas and request bodies.
import type { Extension } from '@codemirror/state';
import { javascript, javascriptLanguage } from '@codemirror/lang-javascript';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { sql, PostgreSQL } from '@codemirror/lang-sql';
import { linter, lintGutter } from '@codemirror/lint';
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { completeExpr, exprExtensions } from './expr';

function completeJs(ctx: CompletionContext): CompletionResult | null {
  const log = ctx.matchBefore(/\blog\.\w*$/);
  if (log) {
    const from = log.to - (log.text.length - 4);
    return {
      from,
      options: ['info', 'warn', 'error', 'debug'].map((l) => ({ label: l, type: 'method', detail: `log.${l}(a, b, ...)`, apply: l + '(' })),
    };
  }
  const r = completeExpr(ctx);
  if (!r) return null;
  // Expression built-ins are not JavaScript: keep the flow's names only.
  const word = ctx.matchBefore(/[\w$.]*$/)?.text ?? '';
  if (!word.includes('.')) {
    return {
      from: r.from,
      options: [
        ...r.options.filter((o) => o.type === 'variable'),
        { label: 'log', type: 'variable', detail: 'log.info/warn/error/debug' },
      ],
      validFor: r.validFor,
    };
  }
  return r;
}

export const languages: Record<string, () => Extension[]> = {
  expr: exprExtensions,
  javascript: () => [javascript(), javascriptLanguage.data.of({ autocomplete: completeJs }), autocompletion()],
  js: () => languages.javascript(),
  json: () => [json(), linter(jsonParseLinter(), { delay: 300 }), lintGutter(), autocompletion()],
  sql: () => [sql({ dialect: PostgreSQL }), autocompletion()],
  text: () => [],
};

export function languageFor(name: string | undefined): Extension[] {
  return (languages[name ?? 'text'] ?? languages.text)();
}
