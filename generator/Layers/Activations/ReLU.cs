using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers.Activations;

/// <summary>[ReLU]: max(x, 0); the derivative is 1 where the output is positive, from the output.</summary>
internal sealed class ReLU : ActivationKind
{
    public override LayerKind Kind => LayerKind.ReLU;
    public override string AttributeName => nameof(ReLUAttribute);
    public override string Stem => "relu";
    public override string Forward(LayerModel layer, string x) => $"{VMath}.Relu<TV, S>({x})";
    public override string Derivative(LayerModel layer, string output, string input) => $"{VMath}.ReluGrad<TV, S>({output})";
}
