using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using GraphGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace GraphGen.Tests.Generator;

/// <summary>
/// Runs <see cref="NetworkGenerator"/> the way the compiler does: parse source text, build a
/// <see cref="CSharpCompilation"/> against the .NET 10 reference assemblies and GraphGen.Runtime,
/// drive the generator with step tracking on, and hand back everything a test looks at. A run can
/// be emitted and loaded into a collectible <see cref="AssemblyLoadContext"/> to execute the
/// generated networks.
/// </summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Parse);

    /// <summary>The reference assemblies plus GraphGen.Runtime; built once, shared by every test.</summary>
    public static readonly ImmutableArray<MetadataReference> References =
        Basic.Reference.Assemblies.Net100.References.All
            .Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(INetwork).Assembly.Location))
            .ToImmutableArray();

    public static CSharpCompilationOptions CompilationOptions(bool warningsAsErrors) =>
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: warningsAsErrors ? ReportDiagnostic.Error : ReportDiagnostic.Default,
                optimizationLevel: OptimizationLevel.Release,
                deterministic: true);

    /// <summary>Source files named Source0.cs, Source1.cs… (a path makes locations comparable).</summary>
    public static CSharpCompilation CreateCompilation(IEnumerable<string> sources, bool warningsAsErrors = false, string? assemblyName = null) =>
        CreateCompilation(sources.Select((s, i) => ($"/src/Source{i}.cs", s)), warningsAsErrors, assemblyName);

    public static CSharpCompilation CreateCompilation(IEnumerable<(string Path, string Text)> sources, bool warningsAsErrors = false, string? assemblyName = null) =>
        CSharpCompilation.Create(
            assemblyName ?? "GraphGenTest_" + Guid.NewGuid().ToString("N"),
            sources.Select(s => ParseTree(s.Path, s.Text)),
            References,
            CompilationOptions(warningsAsErrors));

    public static SyntaxTree ParseTree(string path, string text) =>
        CSharpSyntaxTree.ParseText(SourceText.From(text, Encoding.UTF8), ParseOptions, path);

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

    public static GeneratorRun Run(bool warningsAsErrors, params string[] sources) => Run(CreateCompilation(sources, warningsAsErrors));

    public static GeneratorRun Run(Compilation compilation) => Run(CreateDriver(), compilation);

    /// <summary>Runs <paramref name="driver"/> (fresh or from an earlier run) on <paramref name="compilation"/>.</summary>
    /// <remarks>The generator formats some numbers into its messages while it runs, so the tests pin
    /// the culture (to invariant, unless <paramref name="culture"/> says otherwise) to compare messages exactly.</remarks>
    public static GeneratorRun Run(GeneratorDriver driver, Compilation compilation, CultureInfo? culture = null)
    {
        var (savedCulture, savedUICulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture ?? CultureInfo.InvariantCulture;
            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
            return new GeneratorRun(driver, driver.GetRunResult(), generatorDiagnostics, compilation, output);
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (savedCulture, savedUICulture);
        }
    }
}

/// <summary>One generator run: the driver (to run again incrementally), its result, the diagnostics
/// the generator reported, and the compilation with the generated files added.</summary>
internal sealed class GeneratorRun
{
    private ImmutableArray<Diagnostic>? _outputDiagnostics;

    public GeneratorRun(GeneratorDriver driver, GeneratorDriverRunResult result, ImmutableArray<Diagnostic> generatorDiagnostics,
        Compilation input, Compilation output)
    {
        Driver = driver;
        Result = result;
        GeneratorDiagnostics = generatorDiagnostics;
        InputCompilation = input;
        OutputCompilation = output;
    }

    public GeneratorDriver Driver { get; }
    public GeneratorDriverRunResult Result { get; }
    public GeneratorRunResult GeneratorResult => Result.Results.Single();
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }
    public Compilation InputCompilation { get; }
    public Compilation OutputCompilation { get; }

    /// <summary>Diagnostics of the compilation with the generated files (computed once).</summary>
    public ImmutableArray<Diagnostic> OutputDiagnostics => _outputDiagnostics ??= OutputCompilation.GetDiagnostics();

    public ImmutableArray<GeneratedSourceResult> GeneratedSources => GeneratorResult.GeneratedSources;

    /// <summary>Generated networks, without the stubs emitted for networks that have errors.</summary>
    public ImmutableArray<GeneratedSourceResult> NetworkSources =>
        GeneratedSources.Where(s => !s.SourceText.ToString().Contains("GraphGen could not compile", StringComparison.Ordinal)).ToImmutableArray();

    /// <summary>The GG diagnostics, in a stable order. (The generator reports them through the driver;
    /// they are not among the output compilation's diagnostics, so this binds no generated code.)</summary>
    public IReadOnlyList<Diagnostic> GraphGenDiagnostics =>
        GeneratorDiagnostics
            .Where(d => d.Id.StartsWith("GG", StringComparison.Ordinal))
            .OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal)
            .ThenBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();

    public IReadOnlyList<Diagnostic> GraphGenErrors => GraphGenDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>Errors of the output compilation that are not GraphGen's.</summary>
    public IReadOnlyList<Diagnostic> CompilerErrors =>
        OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("GG", StringComparison.Ordinal)).ToList();

    /// <summary>Any sign that the generator itself failed: an exception in the run result, or the
    /// compiler's "generator failed" warning (CS8785) or analyzer-crash style diagnostics.</summary>
    public IReadOnlyList<string> Crashes
    {
        get
        {
            var crashes = new List<string>();
            foreach (var r in Result.Results)
                if (r.Exception is not null) crashes.Add("Exception: " + r.Exception);
            foreach (var d in GeneratorDiagnostics.Concat(Result.Diagnostics))
            {
                string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
                if (d.Id is "CS8785" or "CS8784" or "AD0001" || message.Contains("failed to generate", StringComparison.OrdinalIgnoreCase)
                    || message.Contains("threw an exception", StringComparison.OrdinalIgnoreCase))
                    crashes.Add(d.ToString());
            }
            return crashes;
        }
    }

    public string GeneratedText(string hintName) =>
        GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    /// <summary>Every diagnostic and every generated file, for assertion messages.</summary>
    public string Describe(bool withGeneratedCode = false)
    {
        var sb = new StringBuilder();
        foreach (var tree in InputCompilation.SyntaxTrees)
            sb.AppendLine($"--- {tree.FilePath}").AppendLine(tree.ToString());
        sb.AppendLine("--- generator diagnostics:");
        foreach (var d in GeneratorDiagnostics) sb.AppendLine("  " + d);
        sb.AppendLine("--- output compilation diagnostics (first 30):");
        foreach (var d in OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Take(30)) sb.AppendLine("  " + d);
        sb.AppendLine("--- generated: " + string.Join(", ", GeneratedSources.Select(s => s.HintName)));
        if (withGeneratedCode)
            foreach (var s in GeneratedSources) sb.AppendLine($"--- {s.HintName}").AppendLine(s.SourceText.ToString());
        foreach (var r in Result.Results)
            if (r.Exception is not null) sb.AppendLine("--- exception: " + r.Exception);
        return sb.ToString();
    }

    /// <summary>Emits the output compilation and loads it into a collectible context.</summary>
    public LoadedAssembly Load()
    {
        using var stream = new MemoryStream();
        var emit = OutputCompilation.Emit(stream);
        if (!emit.Success)
            throw new InvalidOperationException("Emit failed:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
        stream.Position = 0;
        return new LoadedAssembly(stream);
    }
}

/// <summary>A compiled test assembly in its own collectible load context. GraphGen.Runtime (and
/// everything else) resolves from the default context, so <see cref="INetwork"/> is the same type
/// on both sides.</summary>
internal sealed class LoadedAssembly : IDisposable
{
    private sealed class Context : AssemblyLoadContext
    {
        public Context() : base("GraphGenTest", isCollectible: true) { }
        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }

    private readonly Context _context = new();

    public LoadedAssembly(Stream image) => Assembly = _context.LoadFromStream(image);

    public Assembly Assembly { get; }

    /// <summary>Constructs the network class <paramref name="fullName"/> through its
    /// <c>(NetworkOptions)</c> constructor.</summary>
    public INetwork Create(string fullName, NetworkOptions options)
    {
        Type type = Assembly.GetType(fullName, throwOnError: true)!;
        var ctor = type.GetConstructor(new[] { typeof(NetworkOptions) })
            ?? throw new InvalidOperationException($"{fullName} has no constructor taking NetworkOptions");
        try
        {
            return (INetwork)ctor.Invoke(new object[] { options });
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    public void Dispose() => _context.Unload();
}

/// <summary>Random inputs and labels for a network, and helpers to run it.</summary>
internal static class NetworkRunner
{
    public static float[] RandomInputs(INetwork net, int samples, Random rng)
    {
        var x = new float[samples * net.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        return x;
    }

    public static int[] RandomLabels(INetwork net, int samples, Random rng) =>
        Enumerable.Range(0, samples).Select(_ => rng.Next(net.Classes)).ToArray();

    /// <summary>Infer on <paramref name="samples"/> random samples: the logits, Classes per sample.</summary>
    public static float[] InferRandom(INetwork net, int samples, Random rng)
    {
        var x = RandomInputs(net, samples, rng);
        var logits = new float[samples * net.Classes];
        net.Infer(x, logits);
        return logits;
    }

    public static StepResult TrainRandom(INetwork net, int samples, Random rng, float learningRate = 0.05f) =>
        net.TrainStep(RandomInputs(net, samples, rng), RandomLabels(net, samples, rng), learningRate);
}

/// <summary>Source text with one <c>[|…|]</c> marker: the text without it and the marked span.</summary>
internal readonly record struct Markup(string Text, TextSpan? Span)
{
    public static Markup Parse(string markup)
    {
        int start = markup.IndexOf("[|", StringComparison.Ordinal);
        if (start < 0) return new Markup(markup, null);
        int end = markup.IndexOf("|]", start + 2, StringComparison.Ordinal);
        if (end < 0) throw new ArgumentException("'[|' without '|]'");
        string inner = markup.Substring(start + 2, end - start - 2);
        string text = markup.Substring(0, start) + inner + markup.Substring(end + 2);
        if (text.Contains("[|", StringComparison.Ordinal)) throw new ArgumentException("more than one marker");
        return new Markup(text, new TextSpan(start, inner.Length));
    }
}
