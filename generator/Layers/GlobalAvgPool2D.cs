using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers;

/// <summary>[GlobalAvgPool2D]: the mean over H×W of each channel, C×H×W → C×1×1.</summary>
internal sealed class GlobalAvgPool2D : LayerDefinition
{
    public override LayerKind Kind => LayerKind.GlobalAvgPool2D;
    public override string AttributeName => nameof(GlobalAvgPool2DAttribute);
    public override string Stem => "globalavgpool";
    public override FusionSlot Slot => FusionSlot.Pool;

    public override Shape? Output(ShapeRule rule) => rule.Input.IsImage
        ? Shape.Image(rule.Input.C, 1, 1)
        : rule.Fail(null, DiagnosticDescriptors.NeedsImageInput, rule.What, rule.FlatInputReason());
}
