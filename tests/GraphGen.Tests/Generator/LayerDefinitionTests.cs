using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator;
using GraphGen.Generator.Layers;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using Xunit;

namespace GraphGen.Tests.Generator;

using LayerKind = global::GraphGen.Generator.Model.LayerKind;

/// <summary>The layer definitions see no Roslyn types, so their argument reading, shape rules and tensors
/// are checked here directly against hand-computed values.</summary>
public class LayerDefinitionTests
{
    /// <summary>An attribute's arguments as plain values; records what the definition reports as duplicated.</summary>
    private sealed class Arguments : IArgumentReader
    {
        private readonly object[] _positional;
        private readonly Dictionary<string, object> _named;
        public Arguments(object[] positional, Dictionary<string, object>? named = null) => (_positional, _named) = (positional, named ?? new());
        public List<string> Duplicates { get; } = new();
        public int PositionalCount => _positional.Length;
        public object? Positional(int index) => index < _positional.Length ? _positional[index] : null;
        public bool HasNamed(string name) => _named.ContainsKey(name);
        public object? Named(string name) => _named.TryGetValue(name, out var v) ? v : null;
        public void ReportDuplicate(string argument) => Duplicates.Add(argument);
    }

    private static (Shape? Output, List<ShapeDiagnostic> Findings) Infer(LayerSpec spec, params Shape[] inputs)
    {
        var findings = new List<ShapeDiagnostic>();
        var rule = new ShapeRule(new LayerFindings(0, "layer1", findings), spec,
            inputs.Select((s, i) => new RuleInput("v" + i, s, "value " + i)).ToList(), "value 0", 0, null, "v1", () => "flat");
        return (LayerDefinition.Of(spec.Kind).Output(rule), findings);
    }

    private static LayerSpec Read(LayerKind kind, object[] positional, Dictionary<string, object>? named = null) =>
        LayerDefinition.Of(kind).Read(new Arguments(positional, named));

    [Fact]
    public void A_convolution_gives_floor_of_padded_span_over_stride_plus_one_per_axis()
    {
        // 3x28x28, 6 filters of 5x5, stride 1, no padding: 28 - 5 + 1 = 24.
        var spec = Read(LayerKind.Conv2D, new object[] { 6, 5 });
        Assert.Equal(Shape.Image(6, 24, 24), Infer(spec, Shape.Image(3, 28, 28)).Output);
        Assert.Equal(new Window(5, 5, 1, 1, 0, 0, 1), LayerDefinition.Of(LayerKind.Conv2D).Window(spec));

        // 4x9x8, a 3x1 kernel with "same" padding (1 row, 0 columns) and row stride 2, 2 groups:
        // rows (9 + 2 - 3) / 2 + 1 = 5, columns (8 - 1) / 1 + 1 = 8.
        var rect = Read(LayerKind.Conv2D, new object[] { 8 }, new()
        {
            ["KernelHeight"] = 3, ["KernelWidth"] = 1, ["StrideHeight"] = 2, ["Padding"] = global::GraphGen.Conv2DAttribute.Same, ["Groups"] = 2,
        });
        Assert.Equal(Shape.Image(8, 5, 8), Infer(rect, Shape.Image(4, 9, 8)).Output);
        Assert.Equal(new Window(3, 1, 2, 1, 1, 0, 2), LayerDefinition.Of(LayerKind.Conv2D).Window(rect));
    }

    [Fact]
    public void A_kernel_given_twice_is_reported_once_and_the_positional_one_is_used()
    {
        var arguments = new Arguments(new object[] { 6, 5 }, new() { ["Kernel"] = 3 });
        var spec = LayerDefinition.Of(LayerKind.Conv2D).Read(arguments);
        Assert.Equal(new[] { "Kernel" }, arguments.Duplicates);
        Assert.Equal(5, spec.Kernel);
    }

    [Fact]
    public void Pools_default_their_stride_to_the_window_and_shrink_each_axis()
    {
        var spec = Read(LayerKind.MaxPool2D, new object[] { 2 });
        Assert.Equal(2, spec.Stride);
        Assert.Equal(Shape.Image(5, 3, 4), Infer(spec, Shape.Image(5, 7, 9)).Output); // floor 7/2, floor 9/2
        // Size 3, stride 2 on 7x9: (7 - 3) / 2 + 1 = 3, (9 - 3) / 2 + 1 = 4.
        var overlapping = Read(LayerKind.AvgPool2D, new object[] { 3 }, new() { ["Stride"] = 2 });
        Assert.Equal(Shape.Image(5, 3, 4), Infer(overlapping, Shape.Image(5, 7, 9)).Output);
        var (output, findings) = Infer(overlapping, Shape.Flat(12));
        Assert.Null(output);
        Assert.Equal(DiagnosticDescriptors.NeedsImageInput, Assert.Single(findings).Descriptor);
    }

    [Fact]
    public void Blocks_add_equal_shapes_and_concatenate_channels()
    {
        var add = new LayerSpec(LayerKind.Add, 0, 0, false, 0, 0, 0, 0, 0, Marker.EndResidual);
        Assert.Equal(Shape.Image(4, 6, 6), Infer(add, Shape.Image(4, 6, 6), Shape.Image(4, 6, 6)).Output);
        var (sum, addFindings) = Infer(add, Shape.Image(8, 3, 3), Shape.Image(4, 6, 6));
        Assert.Null(sum);
        var mismatch = Assert.Single(addFindings);
        Assert.Equal(DiagnosticDescriptors.AddShapeMismatch, mismatch.Descriptor);
        // The shortcut is the block's input (v1 here), so the hint proposes a 1x1 projection with stride 6 / 3.
        Assert.Contains("[Conv2D(8, 1, Stride = 2)]", (string)mismatch.Arguments[5]);

        var concat = new LayerSpec(LayerKind.Concat, 0, 0, false, 0, 0, 0, 0, 0, Marker.EndConcat);
        Assert.Equal(Shape.Image(9, 4, 4), Infer(concat, Shape.Image(2, 4, 4), Shape.Image(3, 4, 4), Shape.Image(4, 4, 4)).Output);
        Assert.Equal(Shape.Flat(7), Infer(concat, Shape.Flat(3), Shape.Flat(4)).Output);
        var (joined, concatFindings) = Infer(concat, Shape.Image(2, 4, 4), Shape.Image(3, 5, 4));
        Assert.Null(joined);
        Assert.Contains("branch 2 ends in 3x5x4", (string)Assert.Single(concatFindings).Arguments[1]);
    }

    [Fact]
    public void Each_kind_lists_its_tensors_with_their_shapes_and_whether_they_are_trained()
    {
        static LayerModel Layer(LayerKind kind, int outputs, Shape input, int k = 0, int groups = 1) =>
            new LayerModel(kind, "x1", outputs, k, k, 1, 1, 0, 0, 1e-5, 0.9, input, input, default) { Groups = groups };
        static string[] Describe(LayerModel l) => LayerDefinition.Of(l.Kind).Tensors(l)
            .Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}] {(t.Parameter ? "parameter" : "state")}").ToArray();

        Assert.Equal(new[] { "weight [8, 2, 3, 3] parameter", "bias [8] parameter" }, Describe(Layer(LayerKind.Conv2D, 8, Shape.Image(4, 9, 9), 3, groups: 2)));
        Assert.Equal(new[] { "weight [10, 24] parameter", "bias [10] parameter" }, Describe(Layer(LayerKind.Dense, 10, Shape.Image(2, 3, 4))));
        Assert.Equal(new[] { "gamma [6] parameter", "beta [6] parameter", "moving_mean [6] state", "moving_var [6] state" },
            Describe(Layer(LayerKind.BatchNorm, 0, Shape.Image(6, 5, 5))));
        Assert.Equal(new[] { "step [1] state" }, Describe(Layer(LayerKind.Dropout, 0, Shape.Flat(5))));
        foreach (var kind in new[] { LayerKind.ReLU, LayerKind.SiLU, LayerKind.MaxPool2D, LayerKind.GlobalAvgPool2D, LayerKind.Add, LayerKind.Concat })
            Assert.Empty(Describe(Layer(kind, 0, Shape.Image(2, 4, 4))));
    }

    [Fact]
    public void The_model_counts_weights_and_parameters_from_the_definitions_tensors()
    {
        static LayerModel Layer(LayerKind kind, int outputs, Shape input, int kh = 0, int kw = 0, int groups = 1) =>
            new LayerModel(kind, "x1", outputs, kh, kw, 1, 1, 0, 0, 1e-5, 0.9, input, input, default) { Groups = groups };

        // 8 filters of 4/2 channels x 3 x 5, then 8 biases.
        var conv = Layer(LayerKind.Conv2D, 8, Shape.Image(4, 9, 9), 3, 5, groups: 2);
        Assert.Equal((8L * 2 * 3 * 5, 8L * 2 * 3 * 5 + 8), (conv.WeightCount, conv.ParameterCount));
        // 10 units on 2 x 3 x 4 = 24 inputs.
        var dense = Layer(LayerKind.Dense, 10, Shape.Image(2, 3, 4));
        Assert.Equal((240L, 250L), (dense.WeightCount, dense.ParameterCount));
        // gamma and beta are trained; the moving statistics are state.
        var norm = Layer(LayerKind.BatchNorm, 0, Shape.Image(6, 5, 5));
        Assert.Equal((0L, 12L), (norm.WeightCount, norm.ParameterCount));
        // The dropout's step counter is state.
        var dropout = Layer(LayerKind.Dropout, 0, Shape.Flat(5));
        Assert.Equal((0L, 0L), (dropout.WeightCount, dropout.ParameterCount));
    }

    [Fact]
    public void Each_kind_names_its_fusion_slot_and_only_the_max_pool_takes_a_maximum()
    {
        var slots = LayerDefinition.All.ToDictionary(d => d.Kind, d => d.Slot);
        foreach (var kind in new[] { LayerKind.Conv2D, LayerKind.Dense, LayerKind.Concat, LayerKind.Dropout })
            Assert.Equal(FusionSlot.Producer, slots[kind]);
        Assert.Equal(FusionSlot.BatchNorm, slots[LayerKind.BatchNorm]);
        Assert.Equal(FusionSlot.Residual, slots[LayerKind.Add]);
        foreach (var kind in new[] { LayerKind.MaxPool2D, LayerKind.AvgPool2D, LayerKind.GlobalAvgPool2D })
            Assert.Equal(FusionSlot.Pool, slots[kind]);
        foreach (var activation in ActivationKind.All) Assert.Equal(FusionSlot.Activation, slots[activation.Kind]);
        Assert.Equal(Enum.GetValues<LayerKind>().Length, slots.Count);
        Assert.Equal(LayerKind.MaxPool2D, Assert.Single(LayerDefinition.All, d => d.TakesMaximum).Kind);
    }

    [Fact]
    public void Activations_keep_the_shape_and_LeakyReLU_reads_its_slope()
    {
        Assert.Equal(0.01, Read(LayerKind.LeakyReLU, new object[0]).Slope);
        var spec = Read(LayerKind.LeakyReLU, new object[] { 0.2 });
        Assert.Equal(0.2, spec.Slope);
        Assert.Equal(Shape.Image(3, 5, 7), Infer(spec, Shape.Image(3, 5, 7)).Output);
        Assert.Equal(Shape.Flat(11), Infer(Read(LayerKind.Tanh, new object[0]), Shape.Flat(11)).Output);
    }
}
