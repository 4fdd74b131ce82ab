/**
 * Terraform reads every string in its JSON as a template, so file content
 * that contains `${` (main.cf's `${data_directory}`) or `%{` would be taken for
 * an interpolation or a directive. Doubling them (`$${`, `%%{`) keeps them literal.
 */
export function terraformLiteral(text: string): string {
  // A function replacement: in a replacement string, `$$` would mean one `$`.
  return text.replace(/[$%]\{/g, (m) => `${m[0]}${m}`);
}
