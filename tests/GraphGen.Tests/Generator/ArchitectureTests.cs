using System;
using System.IO;
using System.Linq;
using GraphGen.Generator.Layers;
using GraphGen.Generator.Parsing;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using GraphGen.Onnx.Nodes;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>Rules of the generator's layout that the compiler does not check.</summary>
public class ArchitectureTests
{
    private static string GeneratorDirectory([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "generator"));

    private static string RuntimeDirectory([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "runtime"));

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

    [Fact]
    public void Every_layer_kind_has_one_definition_in_its_own_file_that_the_parser_reads()
    {
        var kinds = Enum.GetValues<global::GraphGen.Generator.Model.LayerKind>();
        Assert.Equal(kinds.Length, LayerDefinition.All.Count);
        foreach (var kind in kinds)
        {
            var definition = Assert.Single(LayerDefinition.All, d => d.Kind == kind);
            Assert.Same(definition, LayerDefinition.Of(kind));
            Assert.Equal(kind.ToString(), definition.GetType().Name);
            string folder = definition is ActivationKind ? Path.Combine("Layers", "Activations") : "Layers";
            string file = Path.Combine(GeneratorDirectory(), folder, kind + ".cs");
            Assert.True(File.Exists(file), $"{kind} is not defined in {folder}/{kind}.cs");
            Assert.Contains($"sealed class {kind} :", File.ReadAllText(file));
            // A layer attribute is the kind's name; a block kind's is the marker that closes its block.
            if (definition.ClosingMarker == Marker.None)
            {
                Assert.Equal(kind + "Attribute", definition.AttributeName);
                Assert.Equal(kind, Parser.LayerAttributes[Parser.Namespace + "." + definition.AttributeName]);
            }
            else
            {
                Assert.Equal(definition.ClosingMarker + "Attribute", definition.AttributeName);
                Assert.Equal(definition.ClosingMarker, Parser.MarkerAttributes[Parser.Namespace + "." + definition.AttributeName]);
            }
        }
        Assert.Equal(LayerDefinition.All.Count(d => d.ClosingMarker == Marker.None), Parser.LayerAttributes.Count);
        // Stems name the layers and their checkpoint tensors: one kind each.
        Assert.Equal(kinds.Length, LayerDefinition.All.Select(d => d.Stem).Distinct().Count());
    }

    [Fact]
    public void Every_layer_kind_has_one_onnx_node_writer_in_its_own_file()
    {
        var kinds = Enum.GetValues<LayerKind>();
        Assert.Equal(kinds.Length, NodeWriter.All.Count);
        foreach (var kind in kinds)
        {
            var writer = Assert.Single(NodeWriter.All, w => w.Kind == kind);
            Assert.Same(writer, NodeWriter.Of(kind));
            Assert.Equal(kind + "Node", writer.GetType().Name);
            string file = Path.Combine(RuntimeDirectory(), "Onnx", "Nodes", kind + "Node.cs");
            Assert.True(File.Exists(file), $"{kind} has no ONNX node writer in Onnx/Nodes/{kind}Node.cs");
            Assert.Contains($"sealed class {kind}Node :", File.ReadAllText(file));
        }
        Assert.Null(NodeWriter.Of((LayerKind)99));
    }

    [Fact]
    public void The_parser_the_shape_inference_the_model_the_planner_and_the_onnx_exporter_have_no_switch_over_layer_kinds()
    {
        // A kind's behavior lives in its definition (generator/Layers) and its node writer (runtime/Onnx/Nodes).
        var kindSwitch = new Regex(@"case\s+LayerKind\.|LayerKind\.\w+\s*(=>|or\b)|\bKind\s+switch|switch\s*\(\s*\w+\.Kind\s*\)");
        string[] Files(string folder) => Directory.GetFiles(Path.Combine(GeneratorDirectory(), folder), "*.cs");
        var files = Files("Parsing").Concat(Files("Model")).Append(Path.Combine(RuntimeDirectory(), "Onnx", "OnnxExporter.cs")).ToList();
        Assert.Contains(files, f => f.EndsWith("NetworkModel.cs"));
        Assert.Contains(files, f => f.EndsWith("ShapeInference.cs"));
        foreach (string file in files)
        {
            var match = kindSwitch.Match(File.ReadAllText(file));
            Assert.False(match.Success, $"{Path.GetFileName(file)} switches over LayerKind: '{match.Value}'");
        }
        // Not even a comparison with one kind: the model (parameter counts, fusion slots) and the shape
        // inference ask the definitions.
        var kindValue = new Regex(@"\bLayerKind\.(?!cs\b)\w+"); // not the file name LayerKind.cs
        foreach (string file in Files("Model").Append(Path.Combine(GeneratorDirectory(), "Parsing", "ShapeInference.cs")))
        {
            var match = kindValue.Match(File.ReadAllText(file));
            Assert.False(match.Success, $"{Path.GetFileName(file)} names a layer kind: '{match.Value}'");
        }
        // The planner (whose switches are over its own StepKind) names kinds only to pick a producer's kernels
        // (IsConv, IsDense, ...), which the emitter writes per kind; fusion slots, arg-max buffers and pool
        // windows come from the definitions.
        Assert.Contains(Files("Planning"), f => f.EndsWith("Plan.cs"));
        foreach (string file in Files("Planning"))
        {
            string text = File.ReadAllText(file);
            foreach (Match match in kindValue.Matches(text))
            {
                string before = text.Substring(Math.Max(0, match.Index - 20), Math.Min(20, match.Index));
                Assert.True(Path.GetFileName(file) == "Plan.cs" && before.EndsWith("Producer?.Kind == "),
                    $"{Path.GetFileName(file)} names {match.Value} outside a producer's kernel choice: '...{before}{match.Value}'");
            }
        }
        // The definitions see no Roslyn types: the parser hands them an IArgumentReader.
        var roslyn = Directory.GetFiles(Path.Combine(GeneratorDirectory(), "Layers"), "*.cs", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("using Microsoft.CodeAnalysis")).Select(Path.GetFileName).ToList();
        Assert.True(roslyn.Count == 0, "Roslyn types under Layers/: " + string.Join(", ", roslyn));
    }
}
