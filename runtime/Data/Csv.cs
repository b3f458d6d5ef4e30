using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace GraphGen.Data;

/// <summary>How <see cref="Csv.Load(string, CsvOptions?)"/> reads a table.</summary>
public sealed class CsvOptions
{
    /// <summary>The first line names the columns (default false). Names appear in error messages.</summary>
    public bool HasHeader { get; init; }
    /// <summary>The field separator (default ','; ';' and '\t' are common). Not a quote, digit, sign, point or letter.</summary>
    public char Delimiter { get; init; } = ',';
    /// <summary>The label column, 0-based; negative counts from the end (-1: the last). Default 0. Every other column is a feature.</summary>
    public int LabelColumn { get; init; }
    /// <summary>Labels are class names (any text) rather than integers: the distinct names, sorted ordinally, become
    /// classes 0, 1, ... and <see cref="Dataset.ClassNames"/>. Default false: labels are integers 0, 1, ...</summary>
    public bool TextLabels { get; init; }
}

/// <summary>
/// Reads a CSV table of numbers into a float <see cref="Dataset"/> of shape [features]: one label column, every
/// other column a feature. Fields may be quoted ("1.5"); numbers use the invariant culture (a point for decimals).
/// Every problem is one <see cref="DataFormatException"/> naming the line, the column and the value.
/// </summary>
public static class Csv
{
    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">The file is missing, not a regular file, empty, ragged, or holds a missing,
    /// non-numeric or non-finite feature or an invalid label.</exception>
    public static Dataset Load(string path, CsvOptions? options = null)
    {
        options ??= new CsvOptions();
        char d = options.Delimiter;
        if (d == '"' || d == '.' || d == '+' || d == '-' || char.IsLetterOrDigit(d) || d == '\r' || d == '\n')
            throw new ArgumentException($"'{d}' cannot separate numeric fields", nameof(options));
        DataFile.CheckRegular(path, "a CSV file");
        try
        {
            using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return Parse(path, reader, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot read the file ({e.Message})", e);
        }
    }

    private static Dataset Parse(string path, TextReader reader, CsvOptions options)
    {
        var fields = new List<string>();
        string[]? names = null;
        int columns = -1, labelColumn = -1, line = 0;
        var values = new List<float>();
        var labels = new List<int>();
        var textLabels = new List<string>();
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            line++;
            if (text.Length == 0 || text.AsSpan().IsWhiteSpace())
            {
                if (reader.Peek() < 0) break; // a final blank line is only the file's last newline
                throw new DataFormatException(path, $"line {line} is empty: every line must hold a sample");
            }
            Split(path, line, text, options.Delimiter, fields);
            if (columns < 0)
            {
                columns = fields.Count;
                if (columns < 2)
                    throw new DataFormatException(path, $"line {line} has {columns} column: a label and at least one feature are needed (is the delimiter '{Show(options.Delimiter)}' right?)");
                labelColumn = options.LabelColumn < 0 ? columns + options.LabelColumn : options.LabelColumn;
                if (labelColumn < 0 || labelColumn >= columns)
                    throw new DataFormatException(path, $"label column {options.LabelColumn} does not exist: the table has {columns} columns");
                if (options.HasHeader)
                {
                    names = fields.ToArray();
                    continue;
                }
            }
            else if (fields.Count != columns)
            {
                throw new DataFormatException(path, $"line {line} has {fields.Count} columns, expected {columns} as in line 1");
            }
            for (int c = 0; c < columns; c++)
            {
                string field = fields[c].Trim();
                string where = $"line {line}, column {c + 1}{(names is null ? "" : $" ({names[c]})")}";
                if (c == labelColumn)
                {
                    if (field.Length == 0)
                        throw new DataFormatException(path, $"missing label at {where}");
                    if (options.TextLabels) textLabels.Add(field);
                    else if (int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int label)) labels.Add(label);
                    else
                        throw new DataFormatException(path, $"label '{field}' at {where} is not a non-negative integer (set TextLabels for class names)");
                    continue;
                }
                if (field.Length == 0)
                    throw new DataFormatException(path, $"missing value at {where}");
                if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                    throw new DataFormatException(path, $"non-numeric value '{field}' at {where}");
                if (!float.IsFinite(value))
                    throw new DataFormatException(path, $"value '{field}' at {where} is {(float.IsNaN(value) ? "NaN" : "infinite or beyond the float range (3.4e38)")}");
                values.Add(value);
            }
        }
        int samples = options.TextLabels ? textLabels.Count : labels.Count;
        if (samples == 0)
            throw new DataFormatException(path, line == 0 ? "file is empty" : "holds no samples, only a header");
        string[]? classNames = null;
        if (options.TextLabels)
        {
            var distinct = new SortedSet<string>(textLabels, StringComparer.Ordinal);
            classNames = [.. distinct];
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < classNames.Length; i++) index[classNames[i]] = i;
            foreach (string name in textLabels) labels.Add(index[name]);
        }
        return new Dataset(values.ToArray(), labels.ToArray(), [columns - 1]) { ClassNames = classNames };
    }

    // Splits one line into fields; a field may be wrapped in double quotes, with "" for a quote inside.
    private static void Split(string path, int line, string text, char delimiter, List<string> fields)
    {
        fields.Clear();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            while (i < text.Length && text[i] == ' ') i++;
            if (i < text.Length && text[i] == '"')
            {
                int open = i++;
                while (true)
                {
                    if (i >= text.Length)
                        throw new DataFormatException(path, $"line {line}, column {fields.Count + 1}: the quote opened at character {open + 1} is never closed");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(text[i++]);
                }
                while (i < text.Length && text[i] == ' ') i++;
                if (i < text.Length && text[i] != delimiter)
                    throw new DataFormatException(path, $"line {line}, column {fields.Count + 1}: text after the closing quote");
            }
            else
            {
                while (i < text.Length && text[i] != delimiter) field.Append(text[i++]);
            }
            fields.Add(field.ToString());
            if (i >= text.Length) return;
            i++; // the delimiter
        }
    }

    private static string Show(char c) => c == '\t' ? "\\t" : c.ToString();
}
