import { Lazy, Token } from 'cdktf';

/**
 * Terraform reads every string in its JSON as a template, so file content
 * that contains `${` (main.cf's `${data_directory}`) or `%{` would be taken for
 * an interpolation or a directive. Doubling them (`$${`, `%%{`) keeps them literal.
 */
export function terraformLiteral(text: string): string {
  // A function replacement: in a replacement string, `$$` would mean one `$`.
  return text.replace(/[$%]\{/g, (m) => `${m[0]}${m}`);
}

/**
 * Text from the config, possibly holding a token (a DKIM key): the token is
 * left for cdktf, plain text made literal (an SPF macro such as %{i}).
 */
export function terraformText(text: string): string {
  return Token.isUnresolved(text) ? text : terraformLiteral(text);
}

/**
 * A file rendered at synth time (after every add* call) from the model the
 * construct sees then, written literally into Terraform.
 */
export function renderedFile<M>(model: () => M, render: (m: M) => string): string {
  return Lazy.stringValue({ produce: () => terraformLiteral(render(model())) });
}
