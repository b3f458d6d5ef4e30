using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers;

/// <summary>[AvgPool2D(size)]: the mean of each window.</summary>
internal sealed class AvgPool2D : Pool2D
{
    public override LayerKind Kind => LayerKind.AvgPool2D;
    public override string AttributeName => nameof(AvgPool2DAttribute);
    public override string Stem => "avgpool";
}
