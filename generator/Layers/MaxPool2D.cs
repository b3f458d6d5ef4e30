using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers;

/// <summary>[MaxPool2D(size)]: the maximum of each window (the arg-max is kept for the backward pass).</summary>
internal sealed class MaxPool2D : Pool2D
{
    public override LayerKind Kind => LayerKind.MaxPool2D;
    public override string AttributeName => nameof(MaxPool2DAttribute);
    public override string Stem => "maxpool";
    public override bool TakesMaximum => true;
}
