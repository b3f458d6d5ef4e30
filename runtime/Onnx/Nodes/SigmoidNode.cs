namespace GraphGen.Onnx.Nodes;

/// <summary>Sigmoid → Sigmoid.</summary>
internal sealed class SigmoidNode : UnaryNode
{
    public override LayerKind Kind => LayerKind.Sigmoid;
    protected override string OpType => "Sigmoid";
}
