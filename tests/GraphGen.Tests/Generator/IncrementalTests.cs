using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using GraphGen.Generator.Helpers;
using GraphGen.Generator;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>
/// The pipeline caches: a rerun with nothing changed is all Cached; an edit that does not touch a
/// network's attributes leaves its model Unchanged and does not re-run the emitter; an edit to one
/// network re-runs only that network. And the values the pipeline caches are plain data.
/// </summary>
public sealed class IncrementalTests
{
    private const string NetA =
        "using GraphGen;\n\nnamespace App;\n\n" +
        "[Network(Channels = 1, Height = 8, Width = 8)] [Conv2D(2, Kernel = 3)] [BatchNorm] [ReLU] [MaxPool2D(2)] [Dense(3)]\n" +
        "public partial class NetA\n{\n    public int Helper() => 1;\n}\n";

    private const string NetB =
        "using GraphGen;\n\nnamespace App;\n\n" +
        "[Network(Features = 6)] [Dense(5)] [Tanh] [Dense(3)]\n" +
        "public partial class NetB { }\n";

    private const string Other =
        "namespace App;\n\npublic static class Other\n{\n    public static int Compute(int x) => x + 1;\n}\n";

    private static IEnumerable<IncrementalStepRunReason> OutputReasons(GeneratorRunResult result, string stage) =>
        result.TrackedSteps.TryGetValue(stage, out var steps)
            ? steps.SelectMany(s => s.Outputs).Select(o => o.Reason)
            : Enumerable.Empty<IncrementalStepRunReason>();

    private static IEnumerable<IncrementalStepRunReason> SourceOutputReasons(GeneratorRunResult result) =>
        result.TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs).Select(o => o.Reason);

    /// <summary>The model step's outputs, by class name.</summary>
    private static Dictionary<string, IncrementalStepRunReason> ModelReasons(GeneratorRunResult result) =>
        result.TrackedSteps[NetworkGenerator.Stages.Models]
            .SelectMany(s => s.Outputs)
            .Where(o => o.Value is NetworkModel)
            .ToDictionary(o => ((NetworkModel)o.Value).ClassName, o => o.Reason);

    private static string Dump(GeneratorRunResult result) =>
        string.Join("\n", result.TrackedSteps.Select(kv => kv.Key + ": " + string.Join(", ", kv.Value.SelectMany(s => s.Outputs).Select(o => o.Reason))))
        + "\noutputs: " + string.Join(", ", SourceOutputReasons(result));

    private static (GeneratorRun First, Compilation Compilation) FirstRun(params (string Path, string Text)[] files)
    {
        var compilation = GeneratorHarness.CreateCompilation(files);
        var first = GeneratorHarness.Run(compilation);
        Assert.Empty(first.Crashes);
        Assert.NotEmpty(first.GeneratedSources);
        return (first, compilation);
    }

    private static readonly (string, string)[] TwoNetworks = { ("/src/NetA.cs", NetA), ("/src/NetB.cs", NetB), ("/src/Other.cs", Other) };

    [Fact]
    public void Rerun_on_the_same_compilation_is_all_cached()
    {
        var (first, compilation) = FirstRun(TwoNetworks);
        var second = GeneratorHarness.Run(first.Driver, compilation).GeneratorResult;

        foreach (string stage in new[] { NetworkGenerator.Stages.Parse, NetworkGenerator.Stages.Models })
        {
            var reasons = OutputReasons(second, stage).ToList();
            Assert.NotEmpty(reasons);
            Assert.True(reasons.All(r => r == IncrementalStepRunReason.Cached), stage + "\n" + Dump(second));
        }
        var outputs = SourceOutputReasons(second).ToList();
        Assert.NotEmpty(outputs);
        Assert.True(outputs.All(r => r == IncrementalStepRunReason.Cached), Dump(second));
    }

    private static void AssertNothingRegenerated(GeneratorRunResult result)
    {
        static bool Kept(IncrementalStepRunReason r) => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged;
        Assert.True(OutputReasons(result, NetworkGenerator.Stages.Parse).All(Kept), "Parse\n" + Dump(result));
        var models = OutputReasons(result, NetworkGenerator.Stages.Models).ToList();
        Assert.Equal(2, models.Count);
        Assert.True(models.All(Kept), "Models\n" + Dump(result));
        Assert.True(SourceOutputReasons(result).All(r => r == IncrementalStepRunReason.Cached), "source output\n" + Dump(result));
    }

    [Fact]
    public void Adding_an_unrelated_file_regenerates_nothing()
    {
        var (first, compilation) = FirstRun(TwoNetworks);
        var edited = compilation.AddSyntaxTrees(GeneratorHarness.ParseTree("/src/New.cs", "namespace App;\n\ninternal sealed class Brand { public string Name { get; } = \"new\"; }\n"));
        var second = GeneratorHarness.Run(first.Driver, edited);
        AssertNothingRegenerated(second.GeneratorResult);
        Assert.Equal(first.GeneratedSources.Select(s => s.SourceText.ToString()), second.GeneratedSources.Select(s => s.SourceText.ToString()));
    }

    [Fact]
    public void Editing_a_method_body_in_another_file_regenerates_nothing()
    {
        var (first, compilation) = FirstRun(TwoNetworks);
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/Other.cs");
        var edited = compilation.ReplaceSyntaxTree(old, GeneratorHarness.ParseTree("/src/Other.cs", Other.Replace("x + 1", "x * 2 + 1")));
        AssertNothingRegenerated(GeneratorHarness.Run(first.Driver, edited).GeneratorResult);
    }

    [Fact]
    public void Editing_a_method_body_of_the_network_class_regenerates_nothing()
    {
        var (first, compilation) = FirstRun(TwoNetworks);
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/NetA.cs");
        var edited = compilation.ReplaceSyntaxTree(old, GeneratorHarness.ParseTree("/src/NetA.cs", NetA.Replace("=> 1;", "=> 2 + 40;")));
        AssertNothingRegenerated(GeneratorHarness.Run(first.Driver, edited).GeneratorResult);
    }

    [Fact]
    public void Editing_one_network_regenerates_only_that_network()
    {
        var (first, compilation) = FirstRun(TwoNetworks);
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/NetB.cs");
        var edited = compilation.ReplaceSyntaxTree(old, GeneratorHarness.ParseTree("/src/NetB.cs", NetB.Replace("[Dense(5)]", "[Dense(7)]")));
        var second = GeneratorHarness.Run(first.Driver, edited);
        var result = second.GeneratorResult;

        var models = ModelReasons(result);
        Assert.True(models.Count == 2, Dump(result));
        Assert.True(models["NetB"] == IncrementalStepRunReason.Modified, Dump(result));
        Assert.True(models["NetA"] is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, Dump(result));

        var outputs = SourceOutputReasons(result).ToList();
        Assert.Equal(1, outputs.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(first.GeneratedText("App.NetA.g.cs"), second.GeneratedText("App.NetA.g.cs"));
        Assert.NotEqual(first.GeneratedText("App.NetB.g.cs"), second.GeneratedText("App.NetB.g.cs"));
    }

    [Fact]
    public void Moving_a_network_with_a_warning_updates_the_warning_but_not_the_code()
    {
        const string net = "using GraphGen;\n\nnamespace App;\n\n[Network(Features = 6)] [Dense(5)] [BatchNorm] [BatchNorm] [Dense(3)]\npublic partial class Warned { }\n";
        var (first, compilation) = FirstRun(("/src/Warned.cs", net));
        Assert.Equal("GG0021", Assert.Single(first.GraphGenDiagnostics).Id);

        var old = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(old, GeneratorHarness.ParseTree("/src/Warned.cs", "// a comment that moves everything down\n" + net));
        var second = GeneratorHarness.Run(first.Driver, edited);
        var result = second.GeneratorResult;

        var diagnostic = Assert.Single(second.GraphGenDiagnostics);
        Assert.Equal(first.GraphGenDiagnostics[0].Location.GetLineSpan().StartLinePosition.Line + 1,
            diagnostic.Location.GetLineSpan().StartLinePosition.Line);
        Assert.True(OutputReasons(result, NetworkGenerator.Stages.Diagnostics).Single() == IncrementalStepRunReason.Modified, Dump(result));
        Assert.True(OutputReasons(result, NetworkGenerator.Stages.Models).Single() is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached, Dump(result));
        // Two source outputs: the model's is kept, the diagnostics' re-reported.
        var outputs = SourceOutputReasons(result).OrderBy(r => r).ToList();
        Assert.True(outputs.SequenceEqual(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Modified }.OrderBy(r => r)), Dump(result));
        Assert.Equal(first.GeneratedText("App.Warned.g.cs"), second.GeneratedText("App.Warned.g.cs"));
    }

    [Fact]
    public void Fixing_an_error_generates_the_network()
    {
        const string broken = "using GraphGen;\n\nnamespace App;\n\n[Network(Features = 6)] [Dense(0)] [Dense(3)]\npublic partial class Net { }\n";
        var compilation = GeneratorHarness.CreateCompilation(new[] { broken });
        var first = GeneratorHarness.Run(compilation);
        Assert.Equal("GG0012", Assert.Single(first.GraphGenDiagnostics).Id);
        Assert.Empty(first.NetworkSources);

        var old = compilation.SyntaxTrees.Single();
        var second = GeneratorHarness.Run(first.Driver, compilation.ReplaceSyntaxTree(old, GeneratorHarness.ParseTree(old.FilePath, broken.Replace("Dense(0)", "Dense(4)"))));
        Assert.Empty(second.GraphGenDiagnostics);
        Assert.Single(second.NetworkSources);

        // And breaking it again removes the file and brings the error back.
        var third = GeneratorHarness.Run(second.Driver, compilation);
        Assert.Equal("GG0012", Assert.Single(third.GraphGenDiagnostics).Id);
        Assert.Empty(third.NetworkSources);
    }

    [Fact]
    public void Orphan_warning_is_cached_too()
    {
        const string orphan = "using GraphGen;\n\nnamespace App;\n\n[Dense(5)] [ReLU] [Dense(3)]\npublic partial class Orphan { }\n";
        var compilation = GeneratorHarness.CreateCompilation(new[] { orphan, Other });
        var first = GeneratorHarness.Run(compilation);
        Assert.Equal("GG0008", Assert.Single(first.GraphGenDiagnostics).Id);
        var second = GeneratorHarness.Run(first.Driver, compilation.AddSyntaxTrees(GeneratorHarness.ParseTree("/src/X.cs", "class X { }")));
        Assert.Equal("GG0008", Assert.Single(second.GraphGenDiagnostics).Id);
        Assert.True(OutputReasons(second.GeneratorResult, NetworkGenerator.Stages.Orphans)
            .All(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), Dump(second.GeneratorResult));
    }

    // ---------------------------------------------------------------- the model is plain data

    private static readonly string[] ModelSources =
    {
        BaselineTests.Source("LeNetBN"),
        NetA,
        NetB,
        // With warnings, so DiagnosticInfo values are in the graph too.
        "using GraphGen;\nnamespace W;\npublic partial class Outer { [Network(Features = 6)] [Dense(5)] [BatchNorm] [BatchNorm(Epsilon = 0.01)] [Dense(3)] [ReLU] internal partial class Warned { } }\n",
        // With an error: a null model and a diagnostic.
        "using GraphGen;\nnamespace E;\n[Network(Channels = 1, Height = 4, Width = 4)] [Conv2D(2, Kernel = 5)] [Dense(3)]\npublic partial class Broken { }\n",
    };

    private static List<object> ParseOutputs(GeneratorRun run) =>
        run.GeneratorResult.TrackedSteps[NetworkGenerator.Stages.Parse].SelectMany(s => s.Outputs).Select(o => o.Value).ToList();

    [Fact]
    public void The_model_holds_no_Roslyn_objects()
    {
        var outputs = ParseOutputs(GeneratorHarness.Run(ModelSources));
        Assert.Equal(ModelSources.Length, outputs.Count);
        Assert.All(outputs, o => Assert.IsType<ParseResult>(o));
        Assert.Contains(outputs, o => ((ParseResult)o).Model is null && ((ParseResult)o).Diagnostics.Count > 0);
        Assert.Contains(outputs, o => ((ParseResult)o).Model is not null && ((ParseResult)o).Diagnostics.Count > 0);

        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(Compilation), typeof(SemanticModel), typeof(SyntaxToken), typeof(SyntaxReference), typeof(AttributeData) };
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var problems = new List<string>();
        int count = 0;
        foreach (var o in outputs) Walk(o, "ParseResult", 0);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(count > 100, $"the walk saw only {count} objects");

        void Walk(object? value, string path, int depth)
        {
            if (value is null) return;
            Type type = value.GetType();
            count++;
            foreach (var f in forbidden)
                if (f.IsAssignableFrom(type)) problems.Add($"{path} is a {f.Name} ({type})");
            if (type.IsPrimitive || type.IsEnum || value is string || value is decimal || type.IsPointer) return;
            // Descriptors are process-wide singletons, not tied to a compilation.
            if (value is DiagnosticDescriptor || value is Type || value is Delegate) return;
            if (!type.IsValueType && !visited.Add(value)) return;
            if (depth > 40) { problems.Add($"{path}: too deep"); return; }

            if (value is IEnumerable sequence and not string)
            {
                int i = 0;
                foreach (var item in sequence) Walk(item, $"{path}[{i++}]", depth + 1);
            }
            for (Type? t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    Walk(field.GetValue(value), $"{path}.{field.Name}", depth + 1);
            }
            if (type.Assembly == typeof(NetworkGenerator).Assembly)
            {
                foreach (var property in type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                {
                    if (property.GetIndexParameters().Length > 0 || property.GetMethod is null) continue;
                    if (property.PropertyType.IsByRefLike) continue;
                    object? v;
                    try { v = property.GetValue(value); }
                    catch (TargetInvocationException e) { problems.Add($"{path}.{property.Name} threw {e.InnerException?.GetType().Name}"); continue; }
                    Walk(v, $"{path}.{property.Name}", depth + 1);
                }
            }
        }
    }

    [Fact]
    public void Models_from_two_identical_compilations_are_equal()
    {
        var a = ParseOutputs(GeneratorHarness.Run(ModelSources));
        var b = ParseOutputs(GeneratorHarness.Run(ModelSources));
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.NotSame(a[i], b[i]);
            Assert.Equal(a[i], b[i]);
            Assert.Equal(a[i].GetHashCode(), b[i].GetHashCode());
            var (ma, mb) = (((ParseResult)a[i]).Model, ((ParseResult)b[i]).Model);
            if (ma is not null) Assert.NotSame(ma.Layers[0], mb!.Layers[0]);
        }

        // And they differ when the attributes differ.
        var c = ParseOutputs(GeneratorHarness.Run(ModelSources.Select(s => s.Replace("[Dense(3)]", "[Dense(4)]")).ToArray()));
        Assert.Contains(Enumerable.Range(0, a.Count), i => !a[i].Equals(c[i]));
    }
}
