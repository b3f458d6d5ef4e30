using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers.Activations;

/// <summary>[Tanh]: tanh(x); tanh' = 1 − tanh², from the output.</summary>
internal sealed class Tanh : ActivationKind
{
    public override LayerKind Kind => LayerKind.Tanh;
    public override string AttributeName => nameof(TanhAttribute);
    public override string Stem => "tanh";
    public override string Forward(LayerModel layer, string x) => $"{VMath}.Tanh<TV, S>({x})";
    public override string Derivative(LayerModel layer, string output, string input) => $"{VMath}.TanhGrad<TV, S>({output})";
}
