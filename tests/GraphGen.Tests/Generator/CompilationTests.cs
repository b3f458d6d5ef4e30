using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>
/// LeNet-BN in a namespace, in the global namespace and nested in a partial class, and a second
/// network next to the first, compiled once (warnings as errors, nullable enabled), emitted and
/// loaded. Compiling LeNet takes seconds, so the tests share this one compilation and each looks at
/// the generated file it is about.
/// </summary>
public sealed class LeNetCompilation : IDisposable
{
    public const string LeNetAttributes =
        "[Network(Channels = 1, Height = 28, Width = 28)]\n" +
        "[Conv2D(6, Kernel = 5)]  [BatchNorm] [Sigmoid] [MaxPool2D(2, Stride = 2)]\n" +
        "[Conv2D(16, Kernel = 5)] [BatchNorm] [Sigmoid] [MaxPool2D(2, Stride = 2)]\n" +
        "[Dense(120)] [BatchNorm] [Sigmoid]\n" +
        "[Dense(84)]  [BatchNorm] [Sigmoid]\n" +
        "[Dense(10)]\n";

    public const string MlpAttributes =
        "[Network(Features = 784)] [Dense(256)] [BatchNorm] [ReLU] [Dense(128)] [BatchNorm] [ReLU] [Dense(10)]\n";

    /// <summary>Full type name → (source path, hint name of its generated file).</summary>
    public static readonly IReadOnlyDictionary<string, (string Path, string HintName)> Networks = new Dictionary<string, (string, string)>
    {
        ["App.Nets.LeNet"] = ("/src/InNamespace.cs", "App.Nets.LeNet.g.cs"),
        ["LeNet"] = ("/src/GlobalNamespace.cs", "LeNet.g.cs"),
        ["App.Nested.Outer+LeNet"] = ("/src/Nested.cs", "App.Nested.Outer.LeNet.g.cs"),
        ["App.Nets.Mlp"] = ("/src/SecondNetwork.cs", "App.Nets.Mlp.g.cs"),
    };

    private static readonly (string Path, string Text)[] Sources =
    {
        ("/src/InNamespace.cs", "using GraphGen;\n\nnamespace App.Nets;\n\n" + LeNetAttributes + "public partial class LeNet { }\n"),
        ("/src/GlobalNamespace.cs", "using GraphGen;\n\n" + LeNetAttributes + "public partial class LeNet { }\n"),
        ("/src/Nested.cs", "using GraphGen;\n\nnamespace App.Nested\n{\n    public static partial class Outer\n    {\n" +
            LeNetAttributes + "        internal sealed partial class LeNet { }\n    }\n}\n"),
        ("/src/SecondNetwork.cs", "using GraphGen;\n\nnamespace App.Nets;\n\n" + MlpAttributes + "internal partial class Mlp { }\n"),
        // A user of the networks: the generated members are visible to ordinary code.
        ("/src/Use.cs", "namespace App;\n\npublic static class Use\n{\n" +
            "    public static GraphGen.INetwork[] All(GraphGen.NetworkOptions o) =>\n" +
            "        new GraphGen.INetwork[] { new App.Nets.LeNet(o), new global::LeNet(o), new App.Nested.Outer.LeNet(seed: 3), new App.Nets.Mlp(o) };\n}\n"),
    };

    private readonly Lazy<LoadedAssembly> _loaded;

    public LeNetCompilation()
    {
        Run = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(Sources, warningsAsErrors: true));
        using var stream = new MemoryStream();
        Emit = Run.OutputCompilation.Emit(stream);
        Image = stream.ToArray();
        _loaded = new Lazy<LoadedAssembly>(() => new LoadedAssembly(new MemoryStream(Image)));
    }

    internal GeneratorRun Run { get; }
    public Microsoft.CodeAnalysis.Emit.EmitResult Emit { get; }
    public byte[] Image { get; }
    internal LoadedAssembly Loaded => _loaded.Value;

    /// <summary>Diagnostics (hidden ones aside) whose location is in the given file.</summary>
    public List<Diagnostic> DiagnosticsIn(string pathSuffix) =>
        Emit.Diagnostics.Where(d => d.Severity > DiagnosticSeverity.Hidden && d.Location.GetLineSpan().Path.EndsWith(pathSuffix, StringComparison.Ordinal)).ToList();

    public void Dispose()
    {
        if (_loaded.IsValueCreated) _loaded.Value.Dispose();
    }
}

public sealed class CompilationTests : IClassFixture<LeNetCompilation>
{
    private readonly LeNetCompilation _c;

    public CompilationTests(LeNetCompilation compilation) => _c = compilation;

    private void AssertCompilesCleanly(string fullName)
    {
        var (path, hint) = LeNetCompilation.Networks[fullName];
        Assert.True(_c.Run.Crashes.Count == 0, string.Join("\n", _c.Run.Crashes));
        Assert.Empty(_c.Run.GraphGenDiagnostics);
        Assert.Contains(_c.Run.GeneratedSources, s => s.HintName == hint);
        var generated = _c.DiagnosticsIn("/" + hint);
        Assert.True(generated.Count == 0, $"{hint} has diagnostics (warnings are errors):\n" + string.Join("\n", generated.Take(20)));
        var user = _c.DiagnosticsIn(path);
        Assert.True(user.Count == 0, $"{path} has diagnostics:\n" + string.Join("\n", user.Take(20)));
    }

    [Fact]
    public void In_a_namespace() => AssertCompilesCleanly("App.Nets.LeNet");

    [Fact]
    public void In_the_global_namespace() => AssertCompilesCleanly("LeNet");

    [Fact]
    public void Nested_in_a_partial_class() => AssertCompilesCleanly("App.Nested.Outer+LeNet");

    [Fact]
    public void Two_networks_in_one_assembly()
    {
        AssertCompilesCleanly("App.Nets.LeNet");
        AssertCompilesCleanly("App.Nets.Mlp");
        Assert.Equal(
            LeNetCompilation.Networks.Values.Select(v => v.HintName).OrderBy(h => h, StringComparer.Ordinal),
            _c.Run.GeneratedSources.Select(s => s.HintName).OrderBy(h => h, StringComparer.Ordinal));
        var all = _c.Emit.Diagnostics.Where(d => d.Severity > DiagnosticSeverity.Hidden).ToList();
        Assert.True(_c.Emit.Success && all.Count == 0, string.Join("\n", all.Take(20)));
    }

    [Fact]
    public void Generated_files_have_the_usual_header()
    {
        foreach (var s in _c.Run.GeneratedSources)
        {
            string text = s.SourceText.ToString();
            Assert.StartsWith("// <auto-generated/>", text.TrimStart('\uFEFF'));
            Assert.Contains("#nullable enable", text);
        }
    }

    [Theory]
    [InlineData("App.Nets.LeNet", 784, 10)]
    [InlineData("LeNet", 784, 10)]
    [InlineData("App.Nested.Outer+LeNet", 784, 10)]
    [InlineData("App.Nets.Mlp", 784, 10)]
    public void Loads_constructs_infers_and_trains(string fullName, int inputSize, int classes)
    {
        Assert.True(_c.Emit.Success, string.Join("\n", _c.Emit.Diagnostics.Take(20)));
        using var net = _c.Loaded.Create(fullName, new NetworkOptions { Seed = 1, Threads = 1 });
        Assert.Equal(fullName[(Math.Max(fullName.LastIndexOf('.'), fullName.LastIndexOf('+')) + 1)..], net.Name);
        Assert.Equal(inputSize, net.InputSize);
        Assert.Equal(classes, net.Classes);

        var rng = new Random(42);
        foreach (int samples in new[] { 1, 3, 5 })
        {
            var logits = NetworkRunner.InferRandom(net, samples, rng);
            Assert.Equal(samples * classes, logits.Length);
            Assert.All(logits, v => Assert.True(float.IsFinite(v), $"logit {v}"));
        }

        var step = NetworkRunner.TrainRandom(net, 4, rng);
        Assert.Equal(4, step.Count);
        Assert.True(double.IsFinite(step.LossSum) && step.LossSum > 0, $"loss {step.LossSum}");
        Assert.True(step.IsFinite);

        // Same seed, same weights: a second instance infers the same logits.
        using var twin = _c.Loaded.Create(fullName, new NetworkOptions { Seed = 1, Threads = 1 });
        using var fresh = _c.Loaded.Create(fullName, new NetworkOptions { Seed = 1, Threads = 1 });
        var x = NetworkRunner.RandomInputs(twin, 2, new Random(7));
        float[] a = new float[2 * classes], b = new float[2 * classes];
        twin.Infer(x, a);
        fresh.Infer(x, b);
        Assert.Equal(a, b);
    }
}

/// <summary>Declarations that are legal C# and that GraphGen either compiles or rejects with a GG
/// error, never with broken generated code.</summary>
public sealed class DeclarationShapeTests
{
    private const string Layers = "[Network(Features = 6)] [Dense(5)] [ReLU] [Dense(3)]\n";

    public static TheoryData<string, string> Declarations() => new()
    {
        { "SealedInternal", Layers + "internal sealed partial class Net { }" },
        { "AttributesInOneList", "[Network(Features = 6)] [Dense(5), ReLU, Dense(3)]\npublic partial class Net { }" },
        { "QualifiedAttributeNames", "[GraphGen.Network(Features = 6)] [GraphGen.DenseAttribute(5)] [global::GraphGen.ReLU] [Dense(3)]\npublic partial class Net { }" },
        { "AlreadyIDisposable", Layers + "public partial class Net : System.IDisposable { }" },
        { "NestedInRecordStruct", "public partial record struct Outer { " + Layers + " public partial class Net { } }" },
        { "NestedInStaticClass", "public static partial class Outer { " + Layers + " public partial class Net { } }" },
        { "NestedInInterface", "public partial interface IOuter { " + Layers + " public partial class Net { } }" },
        { "NestedTwice", "public partial class A { public partial record B { " + Layers + " private partial class Net { } } }" },
        { "FileLocal", Layers + "file partial class Net { }" },
        // Names the generated code must not trip over.
        { "KeywordName", Layers + "public partial class @class { }" },
        { "NamedBuffers", Layers + "public partial class Buffers { }" },
        { "NamedWorkspace", Layers + "public partial class Workspace { }" },
        { "NamedLikeARuntimeType", Layers + "public partial class NetworkCore { }" },
        { "NamedLikeATypeParameter", Layers + "public partial class TV { }" },
        { "NamedGraphGenBuffers", Layers + "public partial class GraphGenBuffers { }" },
        { "NamedLikeAnApiMember", Layers + "public partial class Classes { }" },
        { "PrimaryConstructor", Layers + "public partial class Net(int size) { public int Size => size; }" },
    };

    [Theory]
    [MemberData(nameof(Declarations))]
    public void Compiles_or_is_rejected_with_a_GG_error(string name, string declaration)
    {
        _ = name;
        var run = GeneratorHarness.Run(warningsAsErrors: true, "using GraphGen;\n\nnamespace App;\n\n" + declaration + "\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        if (run.GraphGenErrors.Count > 0)
        {
            Assert.Single(run.GraphGenErrors);
            Assert.Empty(run.NetworkSources);
            return;
        }
        Assert.Single(run.GeneratedSources);
        var problems = run.OutputDiagnostics.Where(d => d.Severity > DiagnosticSeverity.Hidden).ToList();
        Assert.True(problems.Count == 0,
            "GraphGen reported no error, but the compilation fails:\n" + string.Join("\n", problems.Take(10)));
    }
}

/// <summary>The generated file puts everything but the facade (one field, the constructors, the
/// INetwork members) in a file-local class: the names it uses there are free in the user's class and
/// namespace, several networks share a namespace and a file, and the file class of each is its own.</summary>
public sealed class FileClassTests
{
    private const string Layers = "[Network(Features = 6)] [Dense(5)] [ReLU] [Dense(3)]\n";

    public static TheoryData<string, string, string> FreeNames() => new()
    {
        { "ClassNamedLikeAKernel", "App.Dense1Forward", Layers + "public partial class Dense1Forward { }" },
        { "ClassNamedLikeABuffer", "App.GraphGenBuffers", Layers + "public partial class GraphGenBuffers { }" },
        { "ClassNamedLikeAFileClass", "App.GeneratedNet", Layers + "public partial class GeneratedNet { }" },
        { "MembersNamedLikeFileClassMembers", "App.Net", Layers +
            "public partial class Net\n{\n    private readonly int _core = 1, _arena = 2;\n    public int Train0() => _core + _arena;\n" +
            "    public sealed class GraphGenBuffers { }\n    internal static void Dense1Forward() { }\n    private static int At(int i) => i;\n}" },
        // The facade names its file class fully qualified, so nothing in scope hides it.
        { "NestedTypeNamedLikeTheFileClass", "App.Net", Layers + "public partial class Net { public sealed class GeneratedNet { } }" },
        { "TypeNamedLikeTheFileClassInTheNamespace", "App.Net", Layers + "public partial class Net { }\npublic sealed class GeneratedNet { }" },
        // The file class cannot share its name with the outermost type of its file (CS9071).
        { "ContainingTypeNamedLikeTheFileClass", "App.GeneratedNet+Net", "public partial class GeneratedNet\n{\n    " + Layers + "    public partial class Net { }\n}" },
        // [GeneratedCode] allows one use: the generator's is on the facade's members, not on the class.
        { "ClassMarkedGeneratedCode", "App.Net", Layers + "[System.CodeDom.Compiler.GeneratedCode(\"mine\", \"1.0\")]\npublic partial class Net { }" },
    };

    [Theory]
    [MemberData(nameof(FreeNames))]
    public void Names_used_only_by_the_file_class_are_free(string name, string fullName, string declaration)
    {
        _ = name;
        var run = GeneratorHarness.Run(warningsAsErrors: true, "using GraphGen;\n\nnamespace App;\n\n" + declaration + "\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.True(run.GraphGenDiagnostics.Count == 0, run.Describe());
        Assert.Single(run.NetworkSources);
        var problems = run.OutputDiagnostics.Where(d => d.Severity > DiagnosticSeverity.Hidden).ToList();
        Assert.True(problems.Count == 0, "the compilation fails:\n" + string.Join("\n", problems.Take(10)));
        using var loaded = run.Load();
        using var net = loaded.Create(fullName, new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 4 });
        Assert.Equal(fullName[(Math.Max(fullName.LastIndexOf('.'), fullName.LastIndexOf('+')) + 1)..], net.Name);
        Assert.All(NetworkRunner.InferRandom(net, 2, new Random(1)), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Several_networks_in_one_file_and_in_one_namespace_each_have_their_own_file_class()
    {
        var sources = new[]
        {
            ("/src/Two.cs", "using GraphGen;\n\nnamespace App;\n\n" + Layers + "public partial class Net { }\n\n" +
                "[Network(Features = 4)] [Dense(2)]\npublic partial class Other { }\n"),
            // Two networks called Net nested in two types of one namespace: two file classes GeneratedNet in App.
            ("/src/Nested.cs", "using GraphGen;\n\nnamespace App;\n\npublic partial class A\n{\n    " + Layers + "    public partial class Net { }\n}\n\n" +
                "public partial class B\n{\n    [Network(Features = 3)] [Dense(4)]\n    public partial class Net { }\n}\n"),
            ("/src/Global.cs", "using GraphGen;\n\n[Network(Features = 2)] [Dense(5)]\npublic partial class Net { }\n"),
        };
        var run = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(sources, warningsAsErrors: true));
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.True(run.GraphGenDiagnostics.Count == 0, run.Describe());
        Assert.Equal(5, run.NetworkSources.Length);
        var problems = run.OutputDiagnostics.Where(d => d.Severity > DiagnosticSeverity.Hidden).ToList();
        Assert.True(problems.Count == 0, "the compilation fails:\n" + string.Join("\n", problems.Take(10)));

        using var loaded = run.Load();
        var expected = new (string FullName, int Inputs, int Classes)[] { ("App.Net", 6, 3), ("App.Other", 4, 2), ("App.A+Net", 6, 3), ("App.B+Net", 3, 4), ("Net", 2, 5) };
        var implementations = new System.Collections.Generic.List<Type>();
        foreach (var (fullName, inputs, classes) in expected)
        {
            using var net = loaded.Create(fullName, new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 4 });
            Assert.Equal(inputs, net.InputSize);
            Assert.Equal(classes, net.Classes);
            var step = NetworkRunner.TrainRandom(net, 3, new Random(2));
            Assert.True(step.IsFinite, $"{fullName}: loss {step.LossSum}");
            object implementation = net.GetType().GetField("_graphGen", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(net)!;
            implementations.Add(implementation.GetType());
        }
        Assert.Equal(expected.Length, implementations.Distinct().Count());
        // The CLR name of a file class is <file>F<hash>__Name: stack traces and profiles show the class it implements.
        Assert.Equal(new[] { "GeneratedNet", "GeneratedOther", "GeneratedNet", "GeneratedNet", "GeneratedNet" },
            implementations.Select(t => t.Name[(t.Name.LastIndexOf("__", StringComparison.Ordinal) + 2)..]));
    }
}

/// <summary>Small networks at the edges of what the attribute language allows (no parameters at
/// all, 1×1 images, windows of one, padding as wide as allowed, a single class): GraphGen accepts
/// them, so they must compile without a warning and run.</summary>
public sealed class EdgeNetworkTests
{
    public static TheoryData<string, string> Networks() => new()
    {
        { "ActivationOnly", "[Network(Features = 8)] [Tanh]" },
        { "ActivationsOnly", "[Network(Features = 5)] [Tanh] [ReLU] [Sigmoid]" },
        { "BatchNormOnly", "[Network(Features = 8)] [BatchNorm]" },
        { "ActivationOnRawInput", "[Network(Features = 8)] [ReLU] [Dense(3)]" },
        { "BatchNormOnImageInput", "[Network(Channels = 2, Height = 4, Width = 4)] [BatchNorm] [MaxPool2D(2)] [Dense(2)]" },
        { "OnePixel", "[Network(Channels = 1, Height = 1, Width = 1)] [Conv2D(3, 1)] [MaxPool2D(1)] [AvgPool2D(1, Stride = 5)] [Dense(2)]" },
        { "WidePaddingBigStride", "[Network(Channels = 2, Height = 5, Width = 5)] [Conv2D(3, Kernel = 3, Padding = 2, Stride = 3)] [Dense(2)]" },
        { "SingleClass", "[Network(Features = 3)] [Dense(1)]" },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Compiles_cleanly_and_runs(string name, string attributes)
    {
        var run = GeneratorHarness.Run($"using GraphGen;\n\nnamespace Edge;\n\n{attributes}\npublic partial class {name} {{ }}\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.True(run.GraphGenErrors.Count == 0, run.Describe());
        Assert.Single(run.GeneratedSources);
        var problems = run.OutputDiagnostics.Where(d => d.Severity > DiagnosticSeverity.Hidden).ToList();
        Assert.True(problems.Count == 0, "GraphGen reported no error, but the compilation fails:\n" + string.Join("\n", problems.Take(10)));

        using var loaded = run.Load();
        using var net = loaded.Create($"Edge.{name}", new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 8 });
        var rng = new Random(3);
        var logits = NetworkRunner.InferRandom(net, 3, rng);
        Assert.Equal(3 * net.Classes, logits.Length);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
        var step = NetworkRunner.TrainRandom(net, 3, rng);
        Assert.True(step.IsFinite, $"loss {step.LossSum}, first non-finite layer {net.FindNonFinite()}");
    }
}
