using System;
using System.Text;

namespace GraphGen.Generator.Helpers;

/// <summary>Indentation-aware text writer for the emitter (as in System.Text.Json's generator):
/// cheaper and more predictable than building syntax trees and normalizing whitespace.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length == 0) { _sb.Append('\n'); return; }
        _sb.Append(' ', _indent * 4).Append(text).Append('\n');
    }

    /// <summary>Writes several lines, each indented to the current level.</summary>
    public void Lines(string text)
    {
        foreach (string line in text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n')) Line(line);
    }

    public void Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public IDisposable Block(string header)
    {
        Open(header);
        return new Closer(this);
    }

    public override string ToString() => _sb.ToString();

    private sealed class Closer : IDisposable
    {
        private readonly SourceWriter _writer;
        public Closer(SourceWriter writer) => _writer = writer;
        public void Dispose() => _writer.Close();
    }
}
