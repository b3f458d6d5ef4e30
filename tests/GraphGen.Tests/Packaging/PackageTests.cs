using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using GraphGen.Generator;
using GraphGen.Tests.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Packaging;

/// <summary>
/// The NuGet package works on its own, not just through ProjectReference, and is what a package page
/// and a debugger expect. <see cref="PackedPackage"/> packs it once as a CI build; consumer projects
/// restore it from a local folder feed into an empty package cache and build and train a network for
/// net8.0 (self-contained, on the 8.0 runtime pack from NuGet: no .NET 8 runtime is installed) and
/// net10.0, with the SDK's compiler and with Microsoft.Net.Compilers.Toolset 4.14.0.
/// </summary>
[Collection(PackagingCollection.Name)]
public class PackageTests(PackedPackage package, ITestOutputHelper output)
{
    private const string AnalyzerPath = "analyzers/dotnet/roslyn4.8/cs/GraphGen.Generator.dll";

    [Fact]
    public void PackageHoldsBothFrameworksTheVersionedGeneratorAndItsPageMetadata()
    {
        using var zip = ZipFile.OpenRead(package.Nupkg);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (string expected in new[]
        {
            "lib/net8.0/GraphGen.Runtime.dll", "lib/net8.0/GraphGen.Runtime.xml",
            "lib/net10.0/GraphGen.Runtime.dll", "lib/net10.0/GraphGen.Runtime.xml",
            AnalyzerPath, "buildTransitive/GraphGen.targets", "icon.png", "PACKAGE.md",
        })
            Assert.Contains(expected, entries);
        // Only the versioned analyzer folder: an unversioned one would also load into compilers below 4.8.
        Assert.DoesNotContain(entries, e => e.StartsWith("analyzers/dotnet/cs/", StringComparison.Ordinal));

        XNamespace ns = "http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd";
        var metadata = XDocument.Load(zip.GetEntry("GraphGen.nuspec")!.Open()).Root!.Element(ns + "metadata")!;
        output.WriteLine(metadata.ToString());
        var license = metadata.Element(ns + "license")!;
        Assert.Equal("expression", (string?)license.Attribute("type"));
        Assert.Equal("MIT", license.Value);
        Assert.Equal("icon.png", metadata.Element(ns + "icon")?.Value);
        Assert.Equal("PACKAGE.md", metadata.Element(ns + "readme")?.Value);
        Assert.Equal(File.ReadAllText(Path.Combine(package.Root, "runtime", "PACKAGE.md")), ReadText(zip, "PACKAGE.md"));
        Assert.All(metadata.Element(ns + "dependencies")!.Elements(ns + "group"), g => Assert.Empty(g.Elements()));
        Assert.Equal(new[] { "net10.0", "net8.0" }, metadata.Element(ns + "dependencies")!.Elements(ns + "group")
            .Select(g => (string)g.Attribute("targetFramework")!).Order(StringComparer.Ordinal));

        // SourceLink fills the repository element from git: the commit always; the URL, and the project
        // URL with it, from the remote "origin" when it is a hosted repository (a release's clone). A
        // clone of a local directory (origin is a path, as in CI's clean clone) or no remote gives none.
        var repository = metadata.Element(ns + "repository")!;
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.Equal(Git("rev-parse HEAD").Trim(), (string?)repository.Attribute("commit"));
        string? url = (string?)repository.Attribute("url");
        bool hosted = TryGit("remote get-url origin", out string origin)
            && (origin.Trim().StartsWith("https://", StringComparison.Ordinal) || origin.Trim().StartsWith("git@", StringComparison.Ordinal));
        if (hosted)
        {
            Assert.StartsWith("https://", url);
            Assert.Equal(url, metadata.Element(ns + "projectUrl")?.Value);
        }
        else
        {
            Assert.Null(url);
            Assert.Null(metadata.Element(ns + "projectUrl"));
        }

        // The icon: a PNG of the size NuGet recommends.
        byte[] icon = ReadBytes(zip, "icon.png");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, icon[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(icon, 12, 4));
        Assert.Equal((128, 128), (BigEndian(icon, 16), BigEndian(icon, 20)));
    }

    [Fact]
    public void PackageReadmeHasNoRelativeLinks()
    {
        // A package page has no repository to resolve "docs/x.md" or "#section" against.
        string readme = File.ReadAllText(Path.Combine(package.Root, "runtime", "PACKAGE.md"));
        var targets = Regex.Matches(readme, @"\]\(([^)\s]*)|<img[^>]*src=""([^""]*)""|^\[[^\]]+\]:\s*(\S+)", RegexOptions.Multiline)
            .Select(m => m.Groups.Cast<Group>().Skip(1).First(g => g.Success).Value).ToList();
        Assert.All(targets, t => Assert.StartsWith("https://", t));
    }

    [Fact]
    public void PackageReadmeExampleCompilesVerbatimAsProgramCsInCSharp12()
    {
        // C# 12 is what a net8.0 project compiles by default, generated code included.
        var blocks = Regex.Matches(File.ReadAllText(Path.Combine(package.Root, "runtime", "PACKAGE.md")), "```csharp\n(.*?)```", RegexOptions.Singleline);
        string code = Assert.Single(blocks).Groups[1].Value;
        var parse = new CSharpParseOptions(LanguageVersion.CSharp12, DocumentationMode.Parse);
        var compilation = CSharpCompilation.Create("PackageExample", [CSharpSyntaxTree.ParseText(code, parse, "/src/Program.cs")],
            GeneratorHarness.References, GeneratorHarness.CompilationOptions(warningsAsErrors: true).WithOutputKind(OutputKind.ConsoleApplication));
        CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation generated, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        Assert.Single(generated.SyntaxTrees, t => t.FilePath.EndsWith("Blobs.g.cs", StringComparison.Ordinal));
        Assert.Empty(generated.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void SymbolsAreInTheSnupkgAndNoFileCarriesABuildMachinePath()
    {
        using var nupkg = ZipFile.OpenRead(package.Nupkg);
        using var snupkg = ZipFile.OpenRead(package.Snupkg);
        foreach (string tfm in new[] { "net8.0", "net10.0" })
        {
            byte[] dll = ReadBytes(nupkg, $"lib/{tfm}/GraphGen.Runtime.dll");
            byte[] pdb = ReadBytes(snupkg, $"lib/{tfm}/GraphGen.Runtime.pdb");
            using var pe = new PEReader(new MemoryStream(dll));
            var debug = pe.ReadDebugDirectory();
            Assert.Contains(debug, e => e.Type == DebugDirectoryEntryType.Reproducible); // a deterministic build
            var codeView = pe.ReadCodeViewDebugDirectoryData(debug.Single(e => e.Type == DebugDirectoryEntryType.CodeView));
            Assert.Equal("/_/", codeView.Path[..3]);                                       // not the builder's obj/ path

            using var pdbProvider = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(pdb));
            var reader = pdbProvider.GetMetadataReader();
            Assert.Equal(codeView.Guid, new BlobContentId(reader.DebugMetadataHeader!.Id).Guid); // the dll's own pdb
            var documents = reader.Documents.Select(d => reader.GetString(reader.GetDocument(d).Name)).ToList();
            Assert.Contains("/_/runtime/Simd/Vec512.cs", documents);
            Assert.All(documents, d => Assert.StartsWith("/_/", d));
        }
        using (var generator = new PEReader(new MemoryStream(ReadBytes(nupkg, AnalyzerPath))))
            Assert.Equal("/_/", generator.ReadCodeViewDebugDirectoryData(
                generator.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView)).Path[..3]);

        // No file of either package names the repository or the artifacts folder, in UTF-8 or UTF-16.
        string root = package.Root.TrimEnd(Path.DirectorySeparatorChar);
        foreach (var entry in nupkg.Entries.Concat(snupkg.Entries))
        {
            byte[] bytes = ReadBytes(entry);
            foreach (var encoding in new Encoding[] { Encoding.UTF8, Encoding.Unicode })
                Assert.False(bytes.AsSpan().IndexOf(encoding.GetBytes(root)) >= 0, $"{entry.FullName} contains {root}");
        }
    }

    /// <summary>The compiler is named by <paramref name="toolset"/>: empty for the SDK's own (Roslyn 5.9),
    /// else a Microsoft.Net.Compilers.Toolset version. Both frameworks train the same network on every
    /// SIMD path, and get the same numbers to the last bit: the .NET 8 build's replacements for the
    /// .NET 9+ vector APIs compute what those APIs do.</summary>
    [SkippableTheory]
    [InlineData("")]
    [InlineData("4.14.0")]
    public void ConsumerBuildsAndTrainsOnNet8AndNet10(string toolset)
    {
        string name = toolset == "" ? "consumer-sdk" : "consumer-toolset";
        string app = package.CreateConsumer(name, $"""
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFrameworks>net8.0;net10.0</TargetFrameworks>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- With warnings as errors, CS1591 fails the build if a generated public member lacks docs. -->
                <GenerateDocumentationFile>true</GenerateDocumentationFile>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <PropertyGroup Condition="'$(TargetFramework)' == 'net8.0'">
                <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                <SelfContained>true</SelfContained>
              </PropertyGroup>
              <PropertyGroup Condition="'{toolset}' != ''">
                <!-- The .NET 10 SDK ignores a compiler package unless told (RoslynCompilerType); C# 14 is beyond 4.14. -->
                <RoslynCompilerType>Package</RoslynCompilerType>
                <LangVersion Condition="'$(TargetFramework)' == 'net10.0'">13.0</LangVersion>
              </PropertyGroup>
              <ItemGroup Condition="'{toolset}' != ''">
                <PackageReference Include="Microsoft.Net.Compilers.Toolset" Version="{toolset}" PrivateAssets="all" />
              </ItemGroup>
            """, ConsumerProgram);
        Skip.IfNot(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "the net8.0 consumer is published for linux-x64");

        string log = package.RunInWork("dotnet", "build -c Release -v:n", app);
        string analyzer = Path.Combine(package.Packages, "graphgen", package.Version, AnalyzerPath);
        Assert.Equal(2, Regex.Matches(log, "/analyzer:" + Regex.Escape(analyzer)).Count); // both frameworks, from the package
        Assert.Contains("/langversion:12.0", log);                                           // net8.0's default: C# 12
        string toolsetCompiler = $"microsoft.net.compilers.toolset/{toolset}/tasks/netcore/bincore/csc.dll";
        if (toolset == "") Assert.DoesNotContain("microsoft.net.compilers.toolset", log);
        else Assert.Equal(2, Regex.Matches(log, Regex.Escape(toolsetCompiler)).Count);

        string net8 = package.RunInWork(Path.Combine(app, "bin", "Release", "net8.0", "linux-x64", name), "", app);
        string net10 = package.RunInWork("dotnet", $"\"{Path.Combine(app, "bin", "Release", "net10.0", name + ".dll")}\"", app);
        output.WriteLine(net8 + net10);
        Assert.Contains("on .NET 8.0.", net8);
        Assert.Contains("on .NET 10.0.", net10);
        var paths = TrainingLines(net8);
        Assert.Equal(8, paths.Count);
        Assert.All(paths.Where(l => l.StartsWith("conv ", StringComparison.Ordinal)), l => Assert.DoesNotContain("NaN", l));
        foreach (string line in paths.Where(l => l.StartsWith("path ", StringComparison.Ordinal)))
        {
            var m = Regex.Match(line, @"loss (\S+) -> (\S+) ");
            double first = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), last = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.True(last < first * 0.25, line);
        }
        Assert.Equal(paths, TrainingLines(net10));
    }

    private static List<string> TrainingLines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("path ", StringComparison.Ordinal) || l.StartsWith("conv ", StringComparison.Ordinal)).ToList();

    /// <summary>Three clusters in 4-D and a network whose step uses every vector operation the .NET 8
    /// build replaces: fused multiply-add (every layer), Round and the exponent scaling (exp, in softmax,
    /// SiLU and sigmoid), and the bounds that clamp exp's argument; then a network with every other layer
    /// kind, so all the generated kernels compile for net8.0 in C# 12 and run alike on both frameworks.</summary>
    private const string ConsumerProgram = """
        using System;
        using System.Globalization;
        using GraphGen;

        var rng = new Random(1);
        int n = 96;
        var x = new float[n * 4];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 3;
            for (int f = 0; f < 4; f++) x[i * 4 + f] = (float)(rng.NextDouble() - 0.5 + (f == labels[i] ? 2 : 0));
        }
        using (var net = new Blobs(new NetworkOptions { Seed = 1, MaxBatch = n, Threads = 1 }))
            Console.WriteLine($"default {net.Simd} on .NET {Environment.Version}");
        foreach (SimdPath path in new[] { SimdPath.Vector512, SimdPath.Vector256, SimdPath.Vector128, SimdPath.Scalar })
        {
            using var net = new Blobs(new NetworkOptions { Seed = 1, MaxBatch = n, Threads = 1, Simd = path });
            double first = net.TrainStep(x, labels, 0.5f).MeanLoss, last = first;
            for (int step = 0; step < 40; step++) last = net.TrainStep(x, labels, 0.5f).MeanLoss;
            var logits = new float[n * 3];
            net.Infer(x, logits);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"path {path} loss {first:R} -> {last:R} logits {logits[0]:R} {logits[1]:R} {logits[2]:R}"));

            // Every other layer kind, compiled for this framework, a few steps on this path.
            var images = new float[8 * 36];
            for (int i = 0; i < images.Length; i++) images[i] = (float)Math.Sin(i * 0.37);
            using var conv = new Convs(new NetworkOptions { Seed = 2, MaxBatch = 8, Threads = 1, Simd = path });
            double convFirst = conv.TrainStep(images, labels.AsSpan(0, 8), 0.1f).MeanLoss, convLast = convFirst;
            for (int step = 0; step < 5; step++) convLast = conv.TrainStep(images, labels.AsSpan(0, 8), 0.1f).MeanLoss;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"conv {path} loss {convFirst:R} -> {convLast:R}"));
        }

        /// <summary>The consumer's network.</summary>
        [Network(Features = 4)]
        [Dense(8)] [BatchNorm] [SiLU]
        [Dense(8)] [Sigmoid]
        [Dense(3)]
        public partial class Blobs { }

        /// <summary>Convolution, pooling, blocks, dropout and the remaining activations.</summary>
        [Network(Channels = 1, Height = 6, Width = 6)]
        [Conv2D(3, 3, Padding = 1)] [BatchNorm] [LeakyReLU]
        [Residual] [Conv2D(3, 3, Padding = 1)] [BatchNorm] [Tanh] [EndResidual]
        [Concat] [Conv2D(2, 1)] [ReLU] [Branch] [EndConcat]
        [MaxPool2D(2)] [Dropout(0.25)] [AvgPool2D(2, Stride = 1)] [GlobalAvgPool2D]
        [Dense(3)]
        public partial class Convs { }
        """;

    private static int BigEndian(byte[] b, int at) => (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];

    private static byte[] ReadBytes(ZipArchive zip, string name) => ReadBytes(zip.GetEntry(name) ?? throw new InvalidOperationException(name + " is not in the package"));

    private static byte[] ReadBytes(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ReadText(ZipArchive zip, string name) => Encoding.UTF8.GetString(ReadBytes(zip, name)).TrimStart('\uFEFF');

    private string Git(string arguments) => PackedPackage.Run("git", arguments, package.Root);

    private bool TryGit(string arguments, out string text)
    {
        var start = new System.Diagnostics.ProcessStartInfo("git", arguments) { WorkingDirectory = package.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GraphGen.sln"))) return dir.FullName;
        throw new InvalidOperationException("GraphGen.sln not found above " + AppContext.BaseDirectory);
    }
}
