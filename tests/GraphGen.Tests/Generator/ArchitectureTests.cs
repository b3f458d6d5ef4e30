using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>Rules of the generator's layout that the compiler does not check.</summary>
public class ArchitectureTests
{
    private static string GeneratorDirectory([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "generator"));

    [Fact]
    public void The_model_files_use_no_Roslyn_types()
    {
        var files = Directory.GetFiles(Path.Combine(GeneratorDirectory(), "Model"), "*.cs");
        Assert.NotEmpty(files);
        var offenders = files.Where(f => File.ReadAllText(f).Contains("Microsoft.CodeAnalysis")).Select(Path.GetFileName).ToList();
        Assert.True(offenders.Count == 0, "Roslyn types under Model/: " + string.Join(", ", offenders));
    }

    [Fact]
    public void The_layer_kinds_and_attributes_are_written_once_and_linked_into_the_generator()
    {
        string project = File.ReadAllText(Path.Combine(GeneratorDirectory(), "GraphGen.Generator.csproj"));
        Assert.Contains("../runtime/Attributes.cs", project);
        Assert.Contains("../runtime/LayerKind.cs", project);
        var enums = Directory.GetFiles(GeneratorDirectory(), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/") && File.ReadAllText(f).Contains("enum LayerKind"));
        Assert.Empty(enums);
    }
}
