using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers.Activations;

/// <summary>[Sigmoid]: σ(x) = 1 / (1 + e^−x); σ' = σ(1 − σ), from the output.</summary>
internal sealed class Sigmoid : ActivationKind
{
    public override LayerKind Kind => LayerKind.Sigmoid;
    public override string AttributeName => nameof(SigmoidAttribute);
    public override string Stem => "sigmoid";
    public override string Forward(LayerModel layer, string x) => $"{VMath}.Sigmoid<TV, S>({x})";
    public override string Derivative(LayerModel layer, string output, string input) => $"{VMath}.SigmoidGrad<TV, S>({output})";
}
