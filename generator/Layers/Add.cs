using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;
using static GraphGen.Generator.Parsing.ShapeInference;

namespace GraphGen.Generator.Layers;

/// <summary>The Add that [EndResidual] makes: main path + shortcut, which must have one shape (the shape
/// inference hands it the block's two ends).</summary>
internal sealed class Add : LayerDefinition
{
    public override LayerKind Kind => LayerKind.Add;
    public override string AttributeName => nameof(EndResidualAttribute);
    public override string Stem => "add";
    public override FusionSlot Slot => FusionSlot.Residual;
    public override Marker ClosingMarker => Marker.EndResidual;

    public override Shape? Output(ShapeRule rule)
    {
        RuleInput main = rule.Inputs[0], shortcut = rule.Inputs[1];
        if (main.Shape == shortcut.Shape) return main.Shape;
        string hint = "";
        if (shortcut.Name == rule.BlockInput)
        {
            int stride = main.Shape.IsImage && shortcut.Shape.IsImage && main.Shape.H > 0 && shortcut.Shape.H % main.Shape.H == 0 ? shortcut.Shape.H / main.Shape.H : 1;
            hint = main.Shape.IsImage && shortcut.Shape.IsImage
                ? Inv($"; the shortcut is the identity, so give the block a projection: [Shortcut] [Conv2D({main.Shape.C}, 1{(stride > 1 ? $", Stride = {stride}" : "")})] before [EndResidual]")
                : Inv($"; the shortcut is the identity, so give the block a projection: [Shortcut] [Dense({main.Shape.C})] before [EndResidual]");
        }
        return rule.Fail(null, DiagnosticDescriptors.AddShapeMismatch, rule.What, main.Shape.ToString(), main.Description, shortcut.Shape.ToString(), shortcut.Description, hint);
    }
}
