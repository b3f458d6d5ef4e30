using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>
/// Every <c>```csharp</c> block of the README compiles as written, with the generator: a block with
/// statements as a program (top-level statements), a block of declarations as a library. A block that
/// uses values it does not declare says so in a first line <c>// given: T name; …</c>, which becomes
/// those declarations. Blocks without using directives get the GraphGen namespaces.
/// </summary>
public sealed class ReadmeTests
{
    private const string Usings = "using System;\nusing GraphGen;\nusing GraphGen.Checkpoints;\nusing GraphGen.Data;\nusing GraphGen.Training;\n";

    public static TheoryData<int> Blocks()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < CodeBlocks().Count; i++) data.Add(i);
        return data;
    }

    private static List<(int Line, string Code)> CodeBlocks()
    {
        string[] lines = File.ReadAllLines(Path.Combine(BaselineFiles.RepositoryRoot(), "README.md"));
        var blocks = new List<(int, string)>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp") continue;
            int start = i + 1;
            int end = Array.FindIndex(lines, start, l => l.Trim() == "```");
            Assert.True(end > 0, $"README line {start}: a csharp block is never closed");
            blocks.Add((start + 1, string.Join("\n", lines[start..end])));
            i = end;
        }
        return blocks;
    }

    /// <summary>`using GraphGen.Data;`, not `using var x = …;`.</summary>
    private static bool IsUsingDirective(string line) => Regex.IsMatch(line, @"^using [A-Za-z_][A-Za-z0-9_.]*;\s*$");

    [Fact]
    public void The_README_has_code_blocks() => Assert.True(CodeBlocks().Count >= 4);

    [Theory]
    [MemberData(nameof(Blocks))]
    public void A_README_code_block_compiles(int index)
    {
        var (line, code) = CodeBlocks()[index];
        var given = Regex.Match(code, @"^// given: ([^(\n]*)", RegexOptions.Multiline);
        string prelude = code.Contains("using GraphGen", StringComparison.Ordinal) ? "" : Usings;
        if (given.Success)
            prelude += string.Concat(given.Groups[1].Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(d => d + " = default!;\n"));
        // Declarations only (attributes, a class) make a library; anything else is a program.
        bool declarationsOnly = code.Split('\n').All(l => l.Trim().Length == 0 || l.TrimStart().StartsWith('[') || l.TrimStart().StartsWith("//", StringComparison.Ordinal)
            || l.TrimStart().StartsWith("public partial class", StringComparison.Ordinal) || IsUsingDirective(l));
        // The usings go first, then the given declarations (statements), then the block.
        string usings = string.Concat(prelude.Split('\n').Where(l => l.StartsWith("using ", StringComparison.Ordinal)).Select(l => l + "\n"));
        string declarations = string.Concat(prelude.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)).Select(l => l + "\n"));
        string blockUsings = string.Concat(code.Split('\n').Where(IsUsingDirective).Select(l => l + "\n"));
        string body = string.Join("\n", code.Split('\n').Where(l => !IsUsingDirective(l)));
        string source = usings + blockUsings + declarations + body + "\n";

        var compilation = GeneratorHarness.CreateCompilation(new[] { source });
        if (!declarationsOnly) compilation = compilation.WithOptions(compilation.Options.WithOutputKind(OutputKind.ConsoleApplication));
        var run = GeneratorHarness.Run(compilation);
        var errors = run.GraphGenErrors.Concat(run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)).ToList();
        Assert.True(errors.Count == 0, $"README line {line}: the block does not compile:\n" + string.Join("\n", errors) + "\n--- as compiled:\n" + source);
    }
}
