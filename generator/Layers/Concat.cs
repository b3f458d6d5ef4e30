using System.Linq;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;
using static GraphGen.Generator.Parsing.ShapeInference;

namespace GraphGen.Generator.Layers;

/// <summary>The Concat that [EndConcat] makes: the branches' ends joined along channels (features, for
/// flat values); image ends must share H×W.</summary>
internal sealed class Concat : LayerDefinition
{
    public override LayerKind Kind => LayerKind.Concat;
    public override string AttributeName => nameof(EndConcatAttribute);
    public override string Stem => "concat";
    public override FusionSlot Slot => FusionSlot.Producer;
    public override Marker ClosingMarker => Marker.EndConcat;

    public override Shape? Output(ShapeRule rule)
    {
        var ends = rule.Inputs;
        var first = ends[0].Shape;
        if (ends.Any(e => e.Shape.IsImage != first.IsImage || (first.IsImage && (e.Shape.H != first.H || e.Shape.W != first.W))))
        {
            string list = string.Join(", ", ends.Select((e, b) => Inv($"branch {b + 1} ends in {e.Shape} ({e.Description})")));
            return rule.Fail(null, DiagnosticDescriptors.ConcatShapeMismatch, rule.What, list);
        }
        int channels = ends.Sum(e => e.Shape.C);
        return first.IsImage ? Shape.Image(channels, first.H, first.W) : Shape.Flat(channels);
    }
}
