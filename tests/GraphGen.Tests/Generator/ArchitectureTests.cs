using System;
using System.IO;
using System.Linq;
using GraphGen.Generator.Layers;
using GraphGen.Generator.Parsing;
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

    /// <summary>The user's class gets only the facade (the field, constructors and INetwork members that
    /// GG0009 reserves); every other generated member goes into the file class. So only FacadeEmitter
    /// may open a partial declaration of the user's class or of a type around it.</summary>
    [Fact]
    public void Only_the_facade_emitter_writes_into_the_users_class()
    {
        var files = Directory.GetFiles(GeneratorDirectory(), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")).ToList();
        var writers = files.Where(f => File.ReadAllText(f).Contains("\"partial ", StringComparison.Ordinal)).Select(Path.GetFileName).ToList();
        Assert.Equal(new[] { "FacadeEmitter.cs" }, writers);
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

    [Fact]
    public void Every_activation_is_defined_once_in_its_own_file_and_every_attribute_is_parsed()
    {
        // One ActivationKind per activation LayerKind, each in Layers/Activations/<Kind>.cs.
        var kinds = ActivationKind.All.Select(a => a.Kind).ToList();
        Assert.Equal(kinds.Distinct().Count(), kinds.Count);
        foreach (var a in ActivationKind.All)
        {
            string file = Path.Combine(GeneratorDirectory(), "Layers", "Activations", a.Kind + ".cs");
            Assert.True(File.Exists(file), $"{a.Kind} is not defined in Layers/Activations/{a.Kind}.cs");
            Assert.Equal(a.Kind + "Attribute", a.AttributeName);
        }
        // Every public attribute of the runtime's vocabulary is something the parser reads.
        var parsed = Parser.LayerAttributes.Keys.Concat(Parser.MarkerAttributes.Keys).Append(Parser.NetworkAttributeName).ToHashSet();
        var declared = typeof(NetworkAttribute).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.Namespace == "GraphGen" && typeof(Attribute).IsAssignableFrom(t))
            .Select(t => t.FullName!).ToList();
        Assert.NotEmpty(declared);
        Assert.All(declared, name => Assert.Contains(name, parsed));
    }
}
