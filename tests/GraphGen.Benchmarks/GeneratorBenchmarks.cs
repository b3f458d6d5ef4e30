extern alias GeneratorAssembly;
using System.IO;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace GraphGen.Benchmarks;

/// <summary>
/// What the generator costs the build: a full driver run on the LeNet sample's source (parse the
/// attributes, infer shapes, plan, emit ~2,000 lines), and an incremental re-run after an edit that
/// does not touch the network (the pipeline's caching should make it nearly free).
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmark
{
    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warm = null!;

    [GlobalSetup]
    public void Setup()
    {
        string source = File.ReadAllText(Path.Combine(Root(), "samples", "LeNet", "LeNet.cs"));
        var references = new System.Collections.Generic.List<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All)
        {
            MetadataReference.CreateFromFile(typeof(INetwork).Assembly.Location),
        };
        _compilation = CSharpCompilation.Create("bench", new[] { CSharpSyntaxTree.ParseText(source, path: "LeNet.cs") }, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        _edited = _compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { void M() { int x = 1; } }", path: "Other.cs"));
        _warm = NewDriver().RunGenerators(_compilation);
    }

    private static GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create(new[] { new GeneratorAssembly::GraphGen.Generator.NetworkGenerator().AsSourceGenerator() });

    [Benchmark(Description = "generator, cold run on LeNet")]
    public GeneratorDriver Cold() => NewDriver().RunGenerators(_compilation);

    [Benchmark(Description = "generator, re-run after an unrelated edit")]
    public GeneratorDriver Incremental() => _warm.RunGenerators(_edited);

    private static string Root()
    {
        for (var dir = new DirectoryInfo(System.AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GraphGen.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("GraphGen.sln");
    }
}
