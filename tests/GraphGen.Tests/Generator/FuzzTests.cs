using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Generator;

/// <summary>A random network: the [Network] attribute and the layer attributes, as source text.</summary>
public sealed record NetDescription(string Input, string[] Layers)
{
    public string Declaration(string className) =>
        Input + "\n" + string.Join(" ", Layers) + $"\npublic partial class {className} {{ }}\n";

    /// <summary>Layer kinds in order, with the input kind: what makes two networks compile to different code paths.</summary>
    public string Shape => (Input.Contains("Features", StringComparison.Ordinal) ? "flat" : "image") + ":" +
        string.Join(",", Layers.Select(l => l[1..].Split('(', ']')[0] + (l.Contains("Padding", StringComparison.Ordinal) ? "+pad" : "") + (l.Contains("Stride", StringComparison.Ordinal) ? "+stride" : "") +
            (l.Contains("Groups", StringComparison.Ordinal) ? "+groups" : "") + (l.Contains("Width", StringComparison.Ordinal) ? "+rect" : "")));

    public override string ToString() => Declaration("Net");
}

/// <summary>
/// Random network descriptions, sensible and not. Stage 1 runs the generator on all of them (batched,
/// many classes per compilation): it never throws, every GG diagnostic points into the class it is
/// about, a network gets a file exactly when it has no GG error, and that file parses. Stage 2 takes
/// a varied selection of the networks without errors, compiles them (no C# warning allowed), loads
/// them and runs Infer and TrainStep. Compiling generated code costs about a second per network on a
/// two-core machine, so stage 2 covers a selection; GRAPHGEN_FUZZ_COMPILE=n raises it (and
/// GRAPHGEN_FUZZ_SEED / GRAPHGEN_FUZZ_BATCHES change the sample).
/// </summary>
public sealed class FuzzTests
{
    private const int BatchSize = 40;
    private const ulong DefaultSeed = 0x6A09E667F3BCC908;

    private readonly ITestOutputHelper _output;

    public FuzzTests(ITestOutputHelper output) => _output = output;

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : fallback;

    private static ulong Seed =>
        ulong.TryParse(Environment.GetEnvironmentVariable("GRAPHGEN_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v) ? v : DefaultSeed;

    // ---------------------------------------------------------------- generators

    /// <summary>Mostly in [lo, hi], now and then zero, negative or huge.</summary>
    private static Gen<int> Mostly(int lo, int hi) => Gen.Frequency(
        (14, Gen.Int[lo, hi]),
        (1, Gen.OneOfConst(0, -1, -7, 64, 1000, 100_000, int.MaxValue)));

    private static Gen<string> Optional(string name, Gen<int> value, int percent) =>
        Gen.Select(Gen.Int[0, 99], value).Select((p, v) => p < percent ? $", {name} = {v}" : "");

    private static readonly Gen<string> Input = Gen.Frequency(
        (14, Gen.Select(Mostly(1, 3), Mostly(1, 12), Mostly(1, 12))
            .Select((c, h, w) => $"[Network(Channels = {c}, Height = {h}, Width = {w})]")),
        (6, Mostly(1, 20).Select(f => $"[Network(Features = {f})]")),
        (1, Gen.OneOfConst("[Network]", "[Network(Features = 4, Channels = 1)]", "[Network(Channels = 1, Height = 4)]",
            "[Network(Features = 0)]", "[Network(Channels = 0, Height = 0, Width = 0, Features = 0)]")));

    private static readonly Gen<string> SquareConv =
        Gen.Select(Mostly(1, 6), Mostly(1, 5), Gen.Int[0, 19], Optional("Stride", Mostly(1, 3), 30), Optional("Padding", Mostly(0, 2), 30))
            .Select((filters, kernel, form, stride, padding) => form switch
            {
                < 9 => $"[Conv2D({filters}, Kernel = {kernel}{stride}{padding})]",
                < 17 => $"[Conv2D({filters}, {kernel}{stride}{padding})]",
                < 19 => $"[Conv2D({filters}{stride}{padding})]",               // no kernel
                _ => $"[Conv2D({filters}, {kernel}, Kernel = {kernel}{stride}{padding})]", // kernel twice
            });

    /// <summary>Rectangular kernels, strides and paddings, now and then half given or mixed with the square form.</summary>
    private static readonly Gen<string> RectangularConv =
        Gen.Select(Mostly(1, 6), Mostly(1, 5), Mostly(1, 5), Optional("StrideHeight", Mostly(1, 3), 30), Optional("StrideWidth", Mostly(1, 3), 30),
                Optional("PaddingWidth", Mostly(0, 2), 30), Gen.Int[0, 9])
            .Select((filters, kh, kw, sh, sw, pw, form) => form switch
            {
                < 7 => $"[Conv2D({filters}, KernelHeight = {kh}, KernelWidth = {kw}{sh}{sw}{pw})]",
                7 => $"[Conv2D({filters}, KernelHeight = {kh}, KernelWidth = {kw}{sh}, Padding = Conv2DAttribute.Same)]",
                8 => $"[Conv2D({filters}, KernelHeight = {kh}{sw})]",          // no width
                _ => $"[Conv2D({filters}, {kh}, KernelWidth = {kw}{pw})]",   // square and per-axis
            });

    /// <summary>Grouped and depthwise convolutions (Groups × multiplier filters), whose groups often divide
    /// the small channel counts the other layers make, and now and then do not.</summary>
    private static readonly Gen<string> GroupedConv =
        Gen.Select(Mostly(1, 4), Gen.Int[1, 2], Gen.OneOfConst(1, 3), Optional("Stride", Mostly(1, 2), 30))
            .Select((groups, multiplier, kernel, stride) =>
                $"[Conv2D({unchecked(groups * multiplier)}, {kernel}{(kernel == 3 ? ", Padding = 1" : "")}{stride}, Groups = {groups})]");

    private static readonly Gen<string> Conv = Gen.Frequency((6, SquareConv), (2, RectangularConv), (2, GroupedConv));

    private static readonly Gen<string> Dense = Mostly(1, 16).Select(u => $"[Dense({u})]");

    private static readonly Gen<string> BatchNorm = Gen.Frequency(
        (8, Gen.Const("[BatchNorm]")),
        (2, Mostly(1, 8).Select(n => $"[BatchNorm(Features = {n})]")),
        (1, Gen.OneOfConst("[BatchNorm(Epsilon = 0.001)]", "[BatchNorm(Momentum = 0.5)]", "[BatchNorm(Epsilon = 0)]",
            "[BatchNorm(Momentum = -0.1)]", "[BatchNorm(Epsilon = 1, Momentum = 1)]", "[BatchNorm(Momentum = 0)]")));

    private static readonly Gen<string> Activation = Gen.OneOfConst("[Sigmoid]", "[ReLU]", "[Tanh]");

    private static readonly Gen<string> Pool =
        Gen.Select(Gen.OneOfConst("MaxPool2D", "AvgPool2D"), Mostly(1, 3), Optional("Stride", Mostly(1, 3), 35))
            .Select((kind, size, stride) => $"[{kind}({size}{stride})]");

    /// <summary>Layers that often keep the shape, so random residual blocks are sometimes valid.</summary>
    private static readonly Gen<string> ShapeKeeping = Gen.Frequency(
        (3, Activation), (2, Gen.Const("[BatchNorm]")), (2, Mostly(1, 4).Select(c => $"[Conv2D({c}, 3, Padding = 1)]")),
        (1, Mostly(1, 4).Select(c => $"[Conv2D({c}, 1)]")), (1, Dense));

    /// <summary>A residual block: identity or projection shortcut, now and then nested or unbalanced.</summary>
    private static readonly Gen<string> Block =
        Gen.Select(ShapeKeeping.Array[1, 3], ShapeKeeping.Array[0, 2], Gen.Int[0, 19], ShapeKeeping)
            .Select((main, shortcut, form, inner) => form switch
            {
                < 9 => $"[Residual] {string.Join(" ", main)} [EndResidual]",
                < 15 => $"[Residual] {string.Join(" ", main)} [Shortcut] {string.Join(" ", shortcut)} [EndResidual]",
                < 17 => $"[Residual] [Residual] {string.Join(" ", main)} [EndResidual] {inner} [EndResidual]",
                17 => $"[Residual] {string.Join(" ", main)}",                        // never closed
                18 => $"{string.Join(" ", main)} [EndResidual]",                     // never opened
                _ => $"[Residual] [Shortcut] {string.Join(" ", shortcut)} [EndResidual]", // no main path
            });

    /// <summary>A concatenation block of two or three branches (one may be empty), now and then wrong.</summary>
    private static readonly Gen<string> Branches =
        Gen.Select(ShapeKeeping.Array[1, 3], ShapeKeeping.Array[0, 2], Gen.Int[0, 19], ShapeKeeping)
            .Select((first, second, form, third) => form switch
            {
                < 10 => $"[Concat] {string.Join(" ", first)} [Branch] {string.Join(" ", second)} [EndConcat]",
                < 16 => $"[Concat] {string.Join(" ", first)} [Branch] {string.Join(" ", second)} [Branch] {third} [EndConcat]",
                < 18 => $"[Concat] [Residual] {string.Join(" ", first)} [EndResidual] [Branch] {third} [EndConcat]",
                18 => $"[Concat] {string.Join(" ", first)} [EndConcat]",              // one branch
                _ => $"[Concat] {string.Join(" ", first)} [Branch] [EndResidual]",   // closed by the wrong marker
            });

    private static readonly Gen<string> Layer = Gen.Frequency(
        (3, Conv), (3, Dense), (2, BatchNorm), (3, Activation), (2, Pool), (3, Block), (2, Branches),
        (1, Gen.OneOfConst("[GlobalAvgPool2D]", "[Residual]", "[Shortcut]", "[EndResidual]", "[Concat]", "[Branch]", "[EndConcat]")),
        (2, Gen.OneOfConst("[Dropout(0.2)]", "[Dropout(0.5)]", "[Dropout(1.5)]", "[LeakyReLU]", "[LeakyReLU(0.2)]", "[LeakyReLU(-1)]", "[SiLU]")));

    public static readonly Gen<NetDescription> Description =
        Gen.Select(Input, Layer.Array[1, 8], Gen.Int[0, 9], Gen.Int[2, 10])
            .Select((input, layers, end, classes) =>
                new NetDescription(input, end < 8 ? layers.Append($"[Dense({classes})]").ToArray() : layers));

    // ---------------------------------------------------------------- stage 1

    private sealed record Outcome(NetDescription Description, string ClassName, bool HasError, string[] Ids);

    private static string BatchSource(IReadOnlyList<NetDescription> batch, out TextSpan[] classSpans)
    {
        var sb = new StringBuilder("using GraphGen;\n\nnamespace Fuzz;\n\n");
        classSpans = new TextSpan[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            int start = sb.Length;
            sb.Append(batch[i].Declaration($"Net{i}"));
            classSpans[i] = TextSpan.FromBounds(start, sb.Length);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Stage 1 on one batch; the outcome of each description.</summary>
    private static List<Outcome> CheckBatch(IReadOnlyList<NetDescription> batch)
    {
        string source = BatchSource(batch, out var spans);
        var run = GeneratorHarness.Run(source);
        if (run.Crashes.Count > 0)
        {
            // Find the culprit, so the failure shows one network rather than forty.
            foreach (var d in batch)
            {
                var single = GeneratorHarness.Run("using GraphGen;\n\nnamespace Fuzz;\n\n" + d.Declaration("Net"));
                if (single.Crashes.Count > 0)
                    Assert.Fail($"The generator crashed on:\n{d}\n{string.Join("\n", single.Crashes)}");
            }
            Assert.Fail("The generator crashed on this batch (no single network reproduces it):\n" + source + string.Join("\n", run.Crashes));
        }

        // The descriptions themselves are valid C#.
        var csharp = run.InputCompilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(csharp.Count == 0, "the fuzzer wrote invalid C#:\n" + string.Join("\n", csharp.Take(5)) + "\n" + source);

        var outcomes = new List<Outcome>();
        var gg = run.GraphGenDiagnostics;
        for (int i = 0; i < batch.Count; i++)
        {
            var mine = gg.Where(d => spans[i].Contains(d.Location.SourceSpan)).ToList();
            bool hasError = mine.Any(d => d.Severity == DiagnosticSeverity.Error);
            string hint = $"Fuzz.Net{i}.g.cs";
            var generated = run.NetworkSources.Where(s => s.HintName == hint).ToList();
            string context = $"{batch[i]}\nits diagnostics: {string.Join("; ", mine)}";
            if (hasError)
            {
                Assert.True(generated.Count == 0, "a network with a GG error still got a generated file:\n" + context);
                // One mistake, one error: errors come from distinct layers or arguments.
                var errors = mine.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
                Assert.True(errors.Select(d => d.Location.SourceSpan).Distinct().Count() == errors.Count, "two errors at the same place:\n" + context);
            }
            else
            {
                Assert.True(generated.Count == 1, "a network without GG errors got no generated file:\n" + context);
                var syntax = generated[0].SyntaxTree.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
                Assert.True(syntax.Count == 0, "the generated file does not parse:\n" + context + "\n" + string.Join("\n", syntax.Take(5)));
            }
            foreach (var d in mine)
            {
                Assert.True(d.Location.GetLineSpan().Path == "/src/Source0.cs" && !d.Location.SourceSpan.IsEmpty, $"diagnostic without a proper location: {d}\n{context}");
                Assert.DoesNotContain("{", d.GetMessage(CultureInfo.InvariantCulture));
            }
            outcomes.Add(new Outcome(batch[i], $"Net{i}", hasError, mine.Select(d => d.Id).ToArray()));
        }
        var stray = gg.Where(d => !spans.Any(s => s.Contains(d.Location.SourceSpan))).ToList();
        Assert.True(stray.Count == 0, "diagnostics outside every class:\n" + string.Join("\n", stray));
        return outcomes;
    }

    // ---------------------------------------------------------------- stage 2

    /// <summary>Compiles the networks into one assembly and runs each; returns one line per failure.
    /// Networks whose generated code does not compile are reported and left out, the rest still run.</summary>
    private static List<string> CompileAndRun(IReadOnlyList<NetDescription> networks)
    {
        var failures = new List<string>();
        var sb = new StringBuilder("using GraphGen;\n\nnamespace Fuzz;\n\n");
        for (int i = 0; i < networks.Count; i++) sb.Append(networks[i].Declaration($"Net{i}")).Append('\n');
        // Not warnings-as-errors (that would turn GG0021/22/25 into errors too): any C# warning fails below.
        var run = GeneratorHarness.Run(sb.ToString());
        Assert.Empty(run.Crashes);
        Assert.Empty(run.GraphGenErrors);

        using var stream = new System.IO.MemoryStream();
        var emit = run.OutputCompilation.Emit(stream);
        var problems = emit.Diagnostics.Where(d => d.Severity > DiagnosticSeverity.Hidden).ToList();
        if (problems.Count > 0)
        {
            var broken = new HashSet<int>();
            foreach (var group in problems.GroupBy(d => d.Location.GetLineSpan().Path))
            {
                int index = Enumerable.Range(0, networks.Count).FirstOrDefault(i => group.Key.EndsWith($"/Fuzz.Net{i}.g.cs", StringComparison.Ordinal), -1);
                if (index < 0) Assert.Fail("diagnostics outside the generated files:\n" + string.Join("\n", group.Take(5)));
                broken.Add(index);
                failures.Add($"GraphGen reported no error, but the generated code does not compile cleanly:\n{networks[index]}" +
                             string.Join("\n", group.Take(3)) + (group.Count() > 3 ? $"\n... {group.Count() - 3} more" : ""));
            }
            var rest = networks.Where((_, i) => !broken.Contains(i)).ToList();
            if (rest.Count > 0) failures.AddRange(CompileAndRun(rest));
            return failures;
        }

        stream.Position = 0;
        using var loaded = new LoadedAssembly(stream);
        var rng = new Random(1234);
        for (int i = 0; i < networks.Count; i++)
        {
            INetwork? net = null;
            string stage = "construct";
            try
            {
                net = loaded.Create($"Fuzz.Net{i}", new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 8 });
                stage = "Infer";
                var logits = NetworkRunner.InferRandom(net, 3, rng);
                if (logits.Length != 3 * net.Classes || !logits.All(float.IsFinite))
                    throw new InvalidOperationException($"Infer gave {logits.Length} logits for 3 samples of {net.Classes} classes: {string.Join(", ", logits)}");
                stage = "TrainStep";
                var step = NetworkRunner.TrainRandom(net, 3, rng);
                if (step.Count != 3 || !step.IsFinite)
                    throw new InvalidOperationException($"non-finite training step: loss {step.LossSum}, parameters finite {step.ParametersFinite}, first non-finite layer {net.FindNonFinite()}");
                stage = "Infer after TrainStep";
                var after = NetworkRunner.InferRandom(net, 2, rng);
                if (!after.All(float.IsFinite))
                    throw new InvalidOperationException("non-finite logits: " + string.Join(", ", after));
            }
            catch (Exception e)
            {
                failures.Add($"{stage} failed with {e.GetType().Name}: {e.Message}\n{networks[i]}{e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
            }
            finally
            {
                net?.Dispose();
            }
        }
        return failures;
    }

    /// <summary>A varied selection: one network per layer sequence first, the smaller ones first.</summary>
    private static List<NetDescription> Select(IEnumerable<NetDescription> valid, int count)
    {
        var all = valid.ToList();
        var chosen = new List<NetDescription>();
        var shapes = new HashSet<string>();
        foreach (var d in all.OrderBy(d => d.Layers.Length))
            if (chosen.Count < count && shapes.Add(d.Shape)) chosen.Add(d);
        foreach (var d in all)
            if (chosen.Count < count && !chosen.Contains(d)) chosen.Add(d);
        return chosen;
    }

    [Fact]
    public void Random_networks_never_break_the_generator_and_compile_and_run_when_accepted()
    {
        ulong seed = Seed;
        int batches = EnvInt("GRAPHGEN_FUZZ_BATCHES", 40);
        int toCompile = EnvInt("GRAPHGEN_FUZZ_COMPILE", 64);
        var clock = Stopwatch.StartNew();

        // Stage 1. The descriptions come from a fixed PCG, so a failure reproduces with the same seed.
        var pcg = new PCG(1, seed);
        var outcomes = new List<Outcome>();
        for (int b = 0; b < batches; b++)
        {
            var batch = Enumerable.Range(0, BatchSize).Select(_ => Description.Generate(pcg, null, out Size _)).ToList();
            try
            {
                outcomes.AddRange(CheckBatch(batch));
            }
            catch (Xunit.Sdk.XunitException e)
            {
                Assert.Fail($"[GRAPHGEN_FUZZ_SEED={seed}, batch {b}] {e.Message}");
            }
        }
        var stage1 = clock.Elapsed;

        var valid = outcomes.Where(o => !o.HasError).Select(o => o.Description).ToList();
        _output.WriteLine($"seed {seed}: {outcomes.Count} descriptions, {valid.Count} without GG errors, {valid.Select(v => v.Shape).Distinct().Count()} distinct layer sequences; stage 1 took {stage1.TotalSeconds:F1} s");
        foreach (var g in outcomes.SelectMany(o => o.Ids.Distinct()).GroupBy(id => id).OrderBy(g => g.Key, StringComparer.Ordinal))
            _output.WriteLine($"  {g.Key}: {g.Count()} networks");
        Assert.True(valid.Count >= outcomes.Count / 10, "the fuzzer makes too few valid networks to be useful");
        Assert.True(outcomes.Select(o => o.Ids).Any(ids => ids.Length > 0), "the fuzzer never made a mistake");

        // Stage 2: compile, load and run a varied selection, ten networks per compilation.
        var chosen = Select(valid, toCompile);
        int residual = chosen.Count(d => d.Layers.Any(l => l.Contains("[EndResidual]", StringComparison.Ordinal)));
        int concat = chosen.Count(d => d.Layers.Any(l => l.Contains("[EndConcat]", StringComparison.Ordinal)));
        _output.WriteLine($"  of the {chosen.Count} networks to compile, {residual} have residual blocks and {concat} concatenations");
        Assert.True(chosen.Count < 8 || (residual > 0 && concat > 0), "no accepted network with a residual or concat block was selected to compile");
        var failures = new List<string>();
        for (int i = 0; i < chosen.Count; i += 10)
            failures.AddRange(CompileAndRun(chosen.Skip(i).Take(10).ToList()));
        _output.WriteLine($"stage 2: compiled and ran {chosen.Count} networks in {(clock.Elapsed - stage1).TotalSeconds:F1} s");
        Assert.True(failures.Count == 0,
            $"[GRAPHGEN_FUZZ_SEED={seed}] {failures.Count} of {chosen.Count} accepted networks failed:\n\n" + string.Join("\n\n", failures.Take(12)));
    }
}
