using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>
/// Snapshot tests: the generated file of each network below must equal the checked-in
/// <c>Baselines/&lt;Name&gt;.g.cs</c>. After an intended emitter change, regenerate them all with
/// <code>GRAPHGEN_UPDATE_BASELINES=1 dotnet test -c Release --filter "FullyQualifiedName~GraphGen.Tests.Generator.BaselineTests"</code>
/// and review the diff. On a mismatch the test writes <c>&lt;Name&gt;.g.cs.received</c> next to the baseline.
/// </summary>
public sealed class BaselineTests
{
    private const string Header = "using GraphGen;\n\nnamespace GraphGen.Baselines;\n\n";

    /// <summary>Name → attribute list. The class is named after the entry.</summary>
    public static readonly IReadOnlyDictionary<string, string> Networks = new Dictionary<string, string>
    {
        // The LeNet sample's own attributes (samples/LeNet/LeNet.cs), so the baseline follows the sample.
        ["LeNetBN"] = SampleAttributes("samples/LeNet/LeNet.cs"),
        ["MlpSample"] =
            "[Network(Features = 784)] [Dense(256)] [BatchNorm] [ReLU] [Dense(128)] [BatchNorm] [ReLU] [Dense(10)]",
        // One small network per layer kind.
        ["Conv2DLayer"] = "[Network(Channels = 2, Height = 6, Width = 5)] [Conv2D(3, Kernel = 3, Stride = 2, Padding = 1)] [Dense(4)]",
        ["DenseLayer"] = "[Network(Features = 5)] [Dense(3)]",
        ["BatchNormLayer"] = "[Network(Features = 5)] [BatchNorm(Epsilon = 0.001, Momentum = 0.8)] [Dense(3)]",
        ["SigmoidLayer"] = "[Network(Features = 5)] [Dense(4)] [Sigmoid] [Dense(3)]",
        ["ReLULayer"] = "[Network(Features = 5)] [Dense(4)] [ReLU] [Dense(3)]",
        ["TanhLayer"] = "[Network(Features = 5)] [Dense(4)] [Tanh] [Dense(3)]",
        ["MaxPool2DLayer"] = "[Network(Channels = 2, Height = 6, Width = 6)] [MaxPool2D(2)] [Dense(3)]",
        ["AvgPool2DLayer"] = "[Network(Channels = 2, Height = 5, Width = 5)] [AvgPool2D(2, Stride = 1)] [Dense(3)]",
        ["DropoutLayer"] = "[Network(Features = 5)] [Dense(4)] [ReLU] [Dropout(0.25)] [Dense(3)]",
        ["GlobalAvgPool2DLayer"] = "[Network(Channels = 3, Height = 4, Width = 5)] [ReLU] [GlobalAvgPool2D] [Dense(3)]",
        // Graphs: an identity block fused into the last conv's epilogue and a projection block.
        ["ResidualBlocks"] =
            "[Network(Channels = 1, Height = 8, Width = 8)]\n" +
            "[Conv2D(4, 3, Padding = 1)] [BatchNorm] [ReLU]\n" +
            "[Residual] [Conv2D(4, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(4, 3, Padding = 1)] [BatchNorm] [EndResidual] [ReLU]\n" +
            "[Residual] [Conv2D(8, 3, Stride = 2, Padding = 1)] [BatchNorm] [Shortcut] [Conv2D(8, 1, Stride = 2)] [BatchNorm] [EndResidual] [ReLU]\n" +
            "[GlobalAvgPool2D] [Dense(10)]",
        // Branches concatenated along channels: a 1x1 branch, a 3x3 branch and a pass-through.
        ["ConcatBlock"] =
            "[Network(Channels = 1, Height = 6, Width = 6)]\n" +
            "[Conv2D(3, 3, Padding = 1)] [ReLU]\n" +
            "[Concat] [Conv2D(2, 1)] [ReLU] [Branch] [Conv2D(4, 3, Padding = 1)] [BatchNorm] [ReLU] [Branch] [EndConcat]\n" +
            "[MaxPool2D(2)] [Dense(5)]",
        // MobileNet-style: a depthwise-separable residual block (depthwise 3x3 + BN + ReLU, pointwise 1x1 +
        // BN + ReLU), then a rectangular, strided depthwise convolution with channel multiplier 2.
        ["DepthwiseSeparable"] =
            "[Network(Channels = 3, Height = 8, Width = 8)]\n" +
            "[Conv2D(8, 3, Padding = 1)] [BatchNorm] [ReLU]\n" +
            "[Residual] [Conv2D(8, 3, Padding = 1, Groups = 8)] [BatchNorm] [ReLU] [Conv2D(8, 1)] [BatchNorm] [ReLU] [EndResidual]\n" +
            "[Conv2D(16, KernelHeight = 3, KernelWidth = 1, StrideHeight = 2, PaddingHeight = 1, Groups = 8)] [ReLU]\n" +
            "[GlobalAvgPool2D] [Dense(10)]",
    };

    /// <summary>The attribute lines of a sample's network declaration.</summary>
    private static string SampleAttributes(string path) => string.Join("\n",
        System.IO.File.ReadAllLines(System.IO.Path.Combine(BaselineFiles.RepositoryRoot(), path)).Where(l => l.StartsWith('[')));

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Networks.Keys) data.Add(name);
        return data;
    }

    public static string Source(string name) => Header + Networks[name] + $"\npublic partial class {name} {{ }}\n";

    [Theory]
    [MemberData(nameof(Names))]
    public void Generated_code_matches_the_baseline(string name)
    {
        var run = GeneratorHarness.Run(Source(name));
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.True(run.GraphGenDiagnostics.Count == 0, run.Describe());
        var file = Assert.Single(run.GeneratedSources);
        Assert.Equal($"GraphGen.Baselines.{name}.g.cs", file.HintName);
        BaselineFiles.Verify(name, file.SourceText.ToString());
    }

    [Fact]
    public void Every_baseline_file_has_a_test()
    {
        var stale = Directory.GetFiles(BaselineFiles.Directory, "*.g.cs")
            .Select(p => Path.GetFileName(p)[..^".g.cs".Length])
            .Where(n => !Networks.ContainsKey(n))
            .ToList();
        Assert.True(stale.Count == 0, "baselines without a network in BaselineTests (delete them): " + string.Join(", ", stale));
    }

    [Fact]
    public void Generation_is_deterministic()
    {
        string a = GeneratorHarness.Run(Source("LeNetBN")).GeneratedSources.Single().SourceText.ToString();
        string b = GeneratorHarness.Run(Source("LeNetBN")).GeneratedSources.Single().SourceText.ToString();
        Assert.Equal(a, b);
    }
}

/// <summary>Reading, comparing and (re)writing baseline files.</summary>
internal static class BaselineFiles
{
    public const string UpdateVariable = "GRAPHGEN_UPDATE_BASELINES";

    public const string UpdateCommand =
        UpdateVariable + "=1 dotnet test -c Release --filter \"FullyQualifiedName~GraphGen.Tests.Generator.BaselineTests\"";

    /// <summary>tests/GraphGen.Tests, found by walking up from the test binaries.</summary>
    public static string ProjectDirectory { get; } = FindProjectDirectory();

    public static string Directory => Path.Combine(ProjectDirectory, "Baselines");

    /// <summary>The repository root (two levels above the test project).</summary>
    public static string RepositoryRoot() => Path.GetFullPath(Path.Combine(ProjectDirectory, "..", ".."));

    private static string FindProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GraphGen.Tests.csproj"))) return dir.FullName;
        throw new InvalidOperationException("GraphGen.Tests.csproj not found above " + AppContext.BaseDirectory);
    }

    private static bool UpdateRequested => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    private static bool IsCI => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string NormalizeNewlines(string s) => s.Replace("\r\n", "\n").Replace('\r', '\n');

    public static void Verify(string name, string actual)
    {
        actual = NormalizeNewlines(actual);
        string path = Path.Combine(Directory, name + ".g.cs");
        string received = path + ".received";
        string? expected = File.Exists(path) ? NormalizeNewlines(File.ReadAllText(path)) : null;

        if (UpdateRequested && !IsCI)
        {
            if (expected != actual)
            {
                System.IO.Directory.CreateDirectory(Directory);
                File.WriteAllText(path, actual);
            }
            File.Delete(received);
            return;
        }

        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        string how = IsCI
            ? $"CI=true: baselines are never written here; regenerate them locally with {UpdateCommand}"
            : $"If the change is intended, regenerate the baselines with:\n    {UpdateCommand}\n(from tests/GraphGen.Tests) and review the diff";
        if (expected is null)
            Assert.Fail($"No baseline for {name}: {path} is missing. The generated text was written to {received}.\n{how}");
        Assert.Fail($"The generated code of {name} differs from its baseline {path}.\n{FirstDifference(expected!, actual)}\n" +
                    $"The generated text was written to {received} (diff it against the baseline).\n{how}");
    }

    /// <summary>"line N:" then the expected and the actual line.</summary>
    public static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string? el = i < e.Length ? e[i] : null, al = i < a.Length ? a[i] : null;
            if (el != al)
                return $"First difference at line {i + 1}:\n  baseline: {el ?? "<end of file>"}\n  received: {al ?? "<end of file>"}";
        }
        return "The texts differ only in line endings.";
    }
}
