#!/usr/bin/env python3
"""Expected prompt strings for the eval fixtures, derived in Python with the harness's formulas.

The lm-evaluation-harness version the seed adapted (EleutherAI commit 663b781, ~v0.2.0) builds each
task's prompt in lm_eval/tasks/<file>.py; this script restates those formulas (doc_to_text,
doc_to_target, construct_requests, and the evaluator's Random(42) shuffle + few-shot sampling) in
Python itself, so string semantics (str.capitalize, rsplit, strip, re, sorted, random) are
Python's own and not the TypeScript port's. Each task names the harness source it follows.

    python3 tools/eval/prompt_goldens.py > test/eval/goldens/prompts.json
"""
import csv
import io
import json
import random
import re
import sys
from pathlib import Path

ROWS = json.loads((Path(__file__).resolve().parents[2] / "test/eval/fixtures/rows.json").read_text())
HF = ROWS["hf"]
F = ROWS["files"]
H = "EleutherAI/lm-evaluation-harness"


def general_detokenize(string):  # lm_eval/utils.py general_detokenize
    string = string.replace(" n't", "n't").replace(" )", ")").replace("( ", "(").replace('" ', '"').replace(' "', '"')
    return re.sub(r" (['.,])", r"\1", string)


def yesno(x):
    return "yes" if x else "no"


TASKS = {}


def task(name, source, docs, text, target, requests, fewshot=None):
    TASKS[name] = dict(source=source, docs=docs, text=text, target=target, requests=requests, fewshot=fewshot)


def ll(ctx, cont):
    return ["loglikelihood", ctx, cont]


def gen(ctx, stops):
    return ["greedy_until", ctx, stops]


# ---- glue.py
task("cola", f"{H} lm_eval/tasks/glue.py CoLA.doc_to_text/doc_to_target/construct_requests", HF["nyu-mll/glue/cola"]["validation"],
     lambda d: "{}\nQuestion: Does this sentence make sense?\nAnswer:".format(d["sentence"]),
     lambda d: " {}".format({1: "yes", 0: "no"}[d["label"]]),
     lambda d, c: [ll(c, " yes"), ll(c, " no")],
     fewshot=dict(k=2, pool=HF["nyu-mll/glue/cola"]["train"], has_train=True))
mnli_text = lambda d: "{}\nQuestion: {} True, False or Neither?\nAnswer:".format(d["premise"], d["hypothesis"].strip() + ("" if d["hypothesis"].strip().endswith(".") else "."))
mnli_target = lambda d: " {}".format({0: "True", 1: "Neither", 2: "False"}[d["label"]])
mnli_req = lambda d, c: [ll(c, " True"), ll(c, " Neither"), ll(c, " False")]
task("mnli", f"{H} lm_eval/tasks/glue.py MNLI (validation_matched)", HF["nyu-mll/glue/mnli"]["validation_matched"], mnli_text, mnli_target, mnli_req)
task("mnli_mismatched", f"{H} lm_eval/tasks/glue.py MNLIMismatched", HF["nyu-mll/glue/mnli"]["validation_mismatched"], mnli_text, mnli_target, mnli_req)
task("mrpc", f"{H} lm_eval/tasks/glue.py MRPC (general_detokenize from lm_eval/utils.py)", HF["nyu-mll/glue/mrpc"]["validation"],
     lambda d: "Sentence 1: {}\nSentence 2: {}\nQuestion: Do both sentences mean the same thing?\nAnswer:".format(general_detokenize(d["sentence1"]), general_detokenize(d["sentence2"])),
     lambda d: " {}".format(yesno(d["label"])), lambda d, c: [ll(c, " yes"), ll(c, " no")])
task("rte", f"{H} lm_eval/tasks/glue.py RTE", HF["nyu-mll/glue/rte"]["validation"],
     lambda d: "{}\nQuestion: {} True or False?\nAnswer:".format(d["sentence1"], d["sentence2"]),
     lambda d: " {}".format({0: "True", 1: "False"}[d["label"]]), lambda d, c: [ll(c, " True"), ll(c, " False")])
task("qnli", f"{H} lm_eval/tasks/glue.py QNLI", HF["nyu-mll/glue/qnli"]["validation"],
     lambda d: "{}\n{}\nQuestion: Does this response answer the question?\nAnswer:".format(d["question"], d["sentence"]),
     lambda d: " {}".format({0: "yes", 1: "no"}[d["label"]]), lambda d, c: [ll(c, " yes"), ll(c, " no")])
task("qqp", f"{H} lm_eval/tasks/glue.py QQP", HF["nyu-mll/glue/qqp"]["validation"],
     lambda d: "Question 1: {}\nQuestion 2: {}\nQuestion: Do both questions ask the same thing?\nAnswer:".format(d["question1"], d["question2"]),
     lambda d: " {}".format(yesno(d["label"])), lambda d, c: [ll(c, " yes"), ll(c, " no")])
task("sst", f"{H} lm_eval/tasks/glue.py SST (glue/sst2)", HF["nyu-mll/glue/sst2"]["validation"],
     lambda d: "{}\nQuestion: Is this sentence positive or negative?\nAnswer:".format(general_detokenize(d["sentence"])),
     lambda d: " {}".format({1: "positive", 0: "negative"}[d["label"]]), lambda d, c: [ll(c, " positive"), ll(c, " negative")])
task("wnli", f"{H} lm_eval/tasks/glue.py WNLI (VERSION 1)", HF["nyu-mll/glue/wnli"]["validation"],
     lambda d: "{}\nQuestion: {} True or False?\nAnswer:".format(d["sentence1"], d["sentence2"]),
     lambda d: " {}".format({0: "False", 1: "True"}[d["label"]]), lambda d, c: [ll(c, " True"), ll(c, " False")])

# ---- superglue.py
task("boolq", f"{H} lm_eval/tasks/superglue.py BoolQ (VERSION 1)", HF["aps/super_glue/boolq"]["validation"],
     lambda d: f"{d['passage']}\nQuestion: {d['question']}?\nAnswer:", lambda d: " " + yesno(d["label"]), lambda d, c: [ll(c, " yes"), ll(c, " no")])
task("cb", f"{H} lm_eval/tasks/superglue.py CommitmentBank (VERSION 1)", HF["aps/super_glue/cb"]["validation"],
     lambda d: "{}\nQuestion: {}. True, False or Neither?\nAnswer:".format(d["premise"], d["hypothesis"]),
     lambda d: " {}".format({0: "True", 1: "False", 2: "Neither"}[d["label"]]), lambda d, c: [ll(c, " True"), ll(c, " False"), ll(c, " Neither")])
conv = lambda ch: ch[0].lower() + ch[1:]
task("copa", f"{H} lm_eval/tasks/superglue.py Copa", HF["aps/super_glue/copa"]["validation"],
     lambda d: d["premise"].strip()[:-1] + " " + {"cause": "because", "effect": "therefore"}[d["question"]],
     lambda d: " " + conv(d["choice1"] if d["label"] == 0 else d["choice2"]),
     lambda d, c: [ll(c, " " + conv(d["choice1"])), ll(c, " " + conv(d["choice2"]))],
     fewshot=dict(k=1, pool=HF["aps/super_glue/copa"]["train"], has_train=True))


def record_doc(d):
    return {"passage": d["passage"], "query": d["query"], "entities": sorted(set(d["entities"])), "answers": sorted(set(d["answers"]))}


def record_text(d):
    d = record_doc(d)
    initial, *highlights = d["passage"].strip().split("\n@highlight\n")
    return initial + "\n\n" + "".join(f"  - {h}.\n" for h in highlights)


fmt = lambda q, e: f"  - {q}".replace("@placeholder", e)
task("record", f"{H} lm_eval/tasks/superglue.py ReCoRD", HF["aps/super_glue/record"]["validation"], record_text,
     lambda d: fmt(d["query"], record_doc(d)["answers"][0]), lambda d, c: [ll(c, fmt(d["query"], e)) for e in record_doc(d)["entities"]])
task("wic", f"{H} lm_eval/tasks/superglue.py WordsInContext", HF["aps/super_glue/wic"]["validation"],
     lambda d: "Sentence 1: {}\nSentence 2: {}\nQuestion: Is the word '{}' used in the same way in the two sentences above?\nAnswer:".format(d["sentence1"], d["sentence2"], d["sentence1"][d["start1"]:d["end1"]]),
     lambda d: " {}".format({0: "no", 1: "yes"}[d["label"]]), lambda d, c: [ll(c, " yes"), ll(c, " no")])


def wsc_text(d):
    raw = d["text"]
    pre = " ".join(raw.split()[:d["span2_index"]])
    post = raw[len(pre) + len(d["span2_text"]) + 1:]
    passage = general_detokenize(pre + " *{}*".format(d["span2_text"]) + post)
    return f"Passage: {passage}\n" + f"Question: In the passage above, does the pronoun \"*{d['span2_text']}*\" refer to \"*{d['span1_text']}*\"?\n" + "Answer:"


task("wsc", f"{H} lm_eval/tasks/superglue.py SGWinogradSchemaChallenge", HF["aps/super_glue/wsc"]["validation"], wsc_text,
     lambda d: " " + yesno(d["label"]), lambda d, c: [ll(c, " yes"), ll(c, " no")],
     fewshot=dict(k=1, pool=[d for d in HF["aps/super_glue/wsc"]["train"] if d["label"]], has_train=True))

# ---- lambada.py
task("lambada", f"{H} lm_eval/tasks/lambada.py LAMBADA", F["lambada"], lambda d: d["text"].rsplit(" ", 1)[0],
     lambda d: " " + d["text"].rsplit(" ", 1)[1], lambda d, c: [ll(c, " " + d["text"].rsplit(" ", 1)[1])])


# ---- MultipleChoiceTask (lm_eval/base.py): target " " + choices[gold], one request per choice
def mc(name, source, docs, fewshot=None, text=lambda d: d["query"]):
    task(name, f"{H} {source}; MultipleChoiceTask in lm_eval/base.py", docs, text, lambda d: " " + d["choices"][d["gold"]],
         lambda d, c: [ll(c, " {}".format(ch)) for ch in d["choices"]], fewshot)


mc("piqa", "lm_eval/tasks/piqa.py PiQA._process_doc", [{"query": "Question: " + d["goal"] + "\nAnswer:", "choices": [d["sol1"], d["sol2"]], "gold": d["label"]} for d in HF["ybisk/piqa/plain_text"]["validation"]])
mc("prost", "lm_eval/tasks/prost.py PROST._process_doc", [{"query": f"{d['context']}\nQuestion: {d['ex_question']}\nAnswer:", "choices": [d["A"], d["B"], d["C"], d["D"]], "gold": d["label"]} for d in HF["corypaik/prost/default"]["test"]])
num_to_letter = {"1": "A", "2": "B", "3": "C", "4": "D", "5": "E"}
mc("arc_challenge", "lm_eval/tasks/arc.py ARCEasy._process_doc", [{"query": "Question: " + d["question"] + "\nAnswer:", "choices": d["choices"]["text"], "gold": ["A", "B", "C", "D", "E"].index(num_to_letter.get(d["answerKey"], d["answerKey"]))} for d in HF["allenai/ai2_arc/ARC-Challenge"]["test"]])


def hs_pre(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


mc("hellaswag", "lm_eval/tasks/hellaswag.py HellaSwag._process_doc/preprocess", [{"query": hs_pre(d["activity_label"] + ": " + d["ctx_a"] + " " + d["ctx_b"].capitalize()), "choices": [hs_pre(e) for e in d["endings"]], "gold": int(d["label"])} for d in HF["Rowan/hellaswag/default"]["validation"]])
mc("openbookqa", "lm_eval/tasks/openbookqa.py OpenBookQA._process_doc", [{"query": d["question_stem"], "choices": d["choices"]["text"], "gold": ["A", "B", "C", "D"].index(d["answerKey"].strip())} for d in HF["allenai/openbookqa/main"]["test"]])
mc("headqa", "lm_eval/tasks/headqa.py HeadQABase._process_doc (head_qa/es)", [{"query": "Question: " + d["qtext"] + "\nAnswer:", "choices": [a["atext"] for a in d["answers"]], "gold": int(d["ra"]) - 1} for d in HF["dvilares/head_qa/es"]["test"]])
mc("mathqa", "lm_eval/tasks/mathqa.py MathQA._process_doc", [{"query": "Question: " + d["Problem"] + "\nAnswer:", "choices": [c[4:].rstrip(" ,") for c in re.findall(r"[abcd] \) .*?, |e \) .*?$", d["options"])], "gold": ["a", "b", "c", "d", "e"].index(d["correct"])} for d in HF["allenai/math_qa/default"]["test"]])
mc("sciq", "lm_eval/tasks/sciq.py SciQ._convert_standard", [{"source": d["support"], "query": d["question"], "choices": [d["distractor1"], d["distractor2"], d["distractor3"], d["correct_answer"]], "gold": 3} for d in F["sciq"]["test"]],
   text=lambda d: "{}\nQuestion: {}\nAnswer:".format(d["source"], d["query"]).strip())


def logiqa_docs(text):
    norm = lambda t: t.replace(".", ". ").strip()
    out = []
    for raw in text.strip().split("\n\n"):
        raw = raw.split("\n")
        doc = {"answerKey": raw[0].strip(), "passage": norm(raw[1]), "question": norm(raw[2]), "options": [norm(o[2:]) for o in raw[3:]]}
        prompt = "Passage: " + doc["passage"] + "\n" + "Question: " + doc["question"] + "\nChoices:\n"
        for ch, o in zip("abcd", doc["options"]):
            prompt += f"{ch.upper()}. {o}\n"
        out.append({"query": prompt + "Answer:", "choices": doc["options"], "gold": "abcd".index(doc["answerKey"])})
    return out


mc("logiqa", "lm_eval/tasks/logiqa.py LogiQA._load_docs/_convert_standard (with the \"Choices:\" line of EVAL-TASKS.md)", logiqa_docs(F["logiqa"]["Test.txt"]))


def qa4mre_docs(xml):
    import xml.etree.ElementTree as ET
    root = ET.fromstring(xml)
    out = []
    for rt in root.iter("reading-test"):
        src = rt[0].text.strip().replace("\'", "'")
        for q in rt.iter("q"):
            out.append({"source": src, "query": q.find("q_str").text, "choices": [a.text for a in q.iter("answer")], "gold": int(q.find("./answer[@correct='Yes']").attrib["a_id"]) - 1})
    return out


mc("qa4mre_2013", "lm_eval/tasks/qa4mre.py QA4MRE.load_docs/doc_to_text", qa4mre_docs(F["qa4mre_2013"]), text=lambda d: "{}\nQuestion: {}\nAnswer:".format(d["source"], d["query"]))

MMLU_DEV = [list(r) for r in csv.reader(io.StringIO(F["hendrycks"]["data/dev/abstract_algebra_dev.csv"]))]


def mmlu(doc):
    prompt = "Question: " + doc[0] + "\nChoices:\n" + "".join(f"{'ABCD'[j]}. {doc[j + 1]}\n" for j in range(4)) + "Answer:"
    return {"query": prompt, "choices": doc[1:5], "gold": "ABCD".index(doc[5])}


mc("hendrycksTest-abstract_algebra", "lm_eval/tasks/hendrycks_test.py GeneralHendrycksTest._convert_standard, fewshot_examples from dev/",
   [mmlu(r) for r in csv.reader(io.StringIO(F["hendrycks"]["data/test/abstract_algebra_test.csv"]))], fewshot=dict(k=2, pool=[mmlu(r) for r in MMLU_DEV], has_train=True))


# ---- race.py: one document per article
def race_docs(rows):
    by = {}
    for r in rows:
        by.setdefault(r["article"], []).append({"question": r["question"], "answer": r["answer"], "options": r["options"]})
    return [{"article": a, "problems": p} for a, p in by.items()]


opt = lambda p: p["options"][{"A": 0, "B": 1, "C": 2, "D": 3}[p["answer"]]]


def race_text(d):
    text = "Article: " + d["article"] + "\n\n"
    for p in d["problems"][:-1]:
        if p["question"][-6:] == "  _  .":
            text += p["question"][-5:] + opt(p) + "\n"
        else:
            text += "Question: " + p["question"] + "\n" + "Answer: " + opt(p) + "\n"
    return text + d["problems"][-1]["question"]


task("race", f"{H} lm_eval/tasks/race.py RACE.doc_to_text (one doc per article)", race_docs(HF["ehovy/race/high"]["test"]), race_text,
     lambda d: " " + opt(d["problems"][-1]), lambda d, c: [ll(c, " " + d["problems"][-1]["options"][i]) for i in range(4)])

task("mc_taco", f"{H} lm_eval/tasks/mc_taco.py MCTACO", HF["CogComp/mc_taco/plain_text"]["test"],
     lambda d: f"{d['sentence']}\nQuestion: {d['question']}\nAnswer: {d['answer']}\nPlausible:", lambda d: " " + ["no", "yes"][d["label"]],
     lambda d, c: [ll(c, " no"), ll(c, " yes")])


def remove_prefixes(aliases):
    aliases.sort()
    ret = [aliases[0]]
    for a in aliases[1:]:
        if not a.startswith(ret[-1]):
            ret.append(a)
    return ret


task("webqs", f"{H} lm_eval/tasks/webqs.py WebQs._remove_prefixes/construct_requests", HF["stanfordnlp/web_questions/default"]["test"],
     lambda d: "Question: " + d["question"] + "\nAnswer:", lambda d: " " + d["answers"][0], lambda d, c: [ll(c, " " + a) for a in remove_prefixes(list(d["answers"]))])

UPPER = ["A", "An", "The", "She", "He", "It", "They", "My", "His", "Her", "Their"]


def wsc273_doc(doc):
    doc = json.loads(json.dumps(doc))
    doc["text"] = doc["text"].replace("  ", " ")

    def norm(option):
        if doc["pronoun"].lower() in ["my", "his", "her", "our", "their"]:
            option += "'s"
        pronoun = option.split()[0]
        start = doc["text"][doc["pronoun_loc"] - 2] == "."
        if not start and pronoun in UPPER:
            return option.replace(pronoun, pronoun.lower())
        return option
    doc["options"] = [norm(o) for o in doc["options"]]
    return doc


def append_context(ctx, partial):
    ctx = ctx.split("\n\n")
    ctx.pop()
    return "\n\n".join([*ctx, partial]) if ctx else partial


W = [wsc273_doc(d) for d in HF["ErnestSDavis/winograd_wsc/wsc273"]["test"]]
pc = lambda d, o: d["text"][:d["pronoun_loc"]] + o
pt = lambda d: " " + d["text"][d["pronoun_loc"] + len(d["pronoun"]):].strip()
task("wsc273", f"{H} lm_eval/tasks/wsc273.py WinogradSchemaChallenge273 (partial evaluation)", W, lambda d: pc(d, d["options"][d["label"]]), pt,
     lambda d, c: [ll(append_context(c, pc(d, o)), pt(d)) for o in d["options"]], fewshot=dict(k=1, pool=W, has_train=False))
wg_c = lambda d, o: d["sentence"][:d["sentence"].index("_")] + o
wg_t = lambda d: " " + d["sentence"][d["sentence"].index("_") + 1:].strip()
task("winogrande", f"{H} lm_eval/tasks/winogrande.py Winogrande (partial evaluation)", HF["allenai/winogrande/winogrande_xl"]["validation"],
     lambda d: wg_c(d, d["option" + d["answer"]]), wg_t, lambda d, c: [ll(append_context(c, wg_c(d, o)), wg_t(d)) for o in [d["option1"], d["option2"]]],
     fewshot=dict(k=1, pool=HF["allenai/winogrande/winogrande_xl"]["train"], has_train=True))
task("anli_r3", f"{H} lm_eval/tasks/anli.py ANLIBase (test_r3)", HF["facebook/anli/plain_text"]["test_r3"],
     lambda d: d["premise"] + "\nQuestion: " + d["hypothesis"] + " True, False, or Neither?\nAnswer:", lambda d: " " + ["True", "Neither", "False"][d["label"]],
     lambda d, c: [ll(c, " True"), ll(c, " Neither"), ll(c, " False")])
task("blimp_adjunct_island", f"{H} lm_eval/tasks/blimp.py BlimpTask (empty context, zero-shot only)", HF["nyu-mll/blimp/adjunct_island"]["train"],
     lambda d: "", lambda d: "", lambda d, c: [ll("", d["sentence_good"]), ll("", d["sentence_bad"])])

ETH = list(csv.reader(io.StringIO(F["ethics_cm"]["ethics/commonsense/cm_test.csv"])))[1:]
task("ethics_cm", f"{H} lm_eval/tasks/hendrycks_ethics.py EthicsCM", ETH, lambda d: "{}\nQuestion: Is this wrong?\nAnswer:".format(d[1]),
     lambda d: " {}".format(yesno(int(d[0]))), lambda d, c: [ll(c, " yes"), ll(c, " no")])
ARITH = [{"context": d["context"].strip().replace("\n\n", "\n").replace("Q:", "Question:").replace("A:", "Answer:"), "completion": d["completion"]} for d in F["arithmetic_2da"]]
task("arithmetic_2da", f"{H} lm_eval/tasks/arithmetic.py Arithmetic._load_docs", ARITH, lambda d: d["context"], lambda d: d["completion"], lambda d, c: [ll(c, d["completion"])],
     fewshot=dict(k=1, pool=ARITH, has_train=False))

MATH = [F["math_algebra"][k] for k in sorted(F["math_algebra"]) if k.startswith("MATH/test/algebra/")]
task("math_algebra", f"{H} lm_eval/tasks/hendrycks_math.py Math (VERSION 1)", MATH, lambda d: "Problem: " + d["problem"] + "\nAnswer:", lambda d: " " + d["solution"], lambda d, c: [gen(c, ["\n"])])


def sgm(text):
    return [re.sub(r"\s+", " ", re.sub(r"<seg.*?>(.*)</seg>.*?", "\\1", line).strip()) for line in text.split("\n") if line.startswith("<seg ")]


WMT = [{"src": s.rstrip(), "ref": r.rstrip()} for s, r in zip(sgm(F["wmt14"]["test/newstest2014-fren-src.en.sgm"]), sgm(F["wmt14"]["test/newstest2014-fren-ref.fr.sgm"]))]
task("wmt14-en-fr", f"{H} lm_eval/tasks/translation.py GeneralTranslationTask; sacrebleu 1.5 SGML extraction (utils.process_to_text)", WMT,
     lambda d: "English phrase: " + d["src"] + "\nFrench phrase:", lambda d: " " + d["ref"], lambda d, c: [gen(c, ["\n"])])


def drop_answer(a):
    if a["number"] != "":
        return (str(a["number"]),)
    if a["spans"] != []:
        return tuple(a["spans"])
    return (" ".join([a["date"]["day"], a["date"]["month"], a["date"]["year"]]).strip(),)


def drop_docs(data):
    out = []
    for p in data.values():
        for qa in p["qa_pairs"]:
            answers, seen = [], set()
            for cand in [qa["answer"]] + qa.get("validated_answers", []):
                a = drop_answer(cand)
                if a not in seen:
                    seen.add(a)
                    answers.append(a)
            out.append({"id": qa["query_id"], "passage": p["passage"], "question": qa["question"], "answers": answers})
    return out


task("drop", f"{H} lm_eval/tasks/drop.py DROP (VERSION 1: answer sets from answer + validated_answers)", drop_docs(F["drop"]["drop_dataset/drop_dataset_dev.json"]),
     lambda d: f"Passage: {d['passage']}\nQuestion: {d['question']}\nAnswer:", lambda d: " " + ", ".join(d["answers"][0]), lambda d, c: [gen(c, ["."])])


def fewshot_contexts(t):
    """lm_eval/evaluator.py: docs shuffled with Random(42); the same rnd samples the examples."""
    fs = t["fewshot"]
    docs = list(t["docs"])
    rnd = random.Random()
    rnd.seed(42)
    rnd.shuffle(docs)
    out = []
    for doc in docs:
        if fs["has_train"]:
            ex = rnd.sample(fs["pool"], fs["k"])
        else:
            ex = [x for x in rnd.sample(fs["pool"], fs["k"] + 1) if x != doc][:fs["k"]]
        out.append("\n\n".join(t["text"](e) + t["target"](e) for e in ex) + "\n\n" + t["text"](doc))
    return {"k": fs["k"], "contexts": out}


out = {"generated_by": "tools/eval/prompt_goldens.py", "harness": "EleutherAI/lm-evaluation-harness 663b781 (~v0.2.0), as summarised in shared/EVAL-TASKS.md", "tasks": {}}
for name, t in TASKS.items():
    docs = []
    for d in t["docs"]:
        text = t["text"](d)
        docs.append({"text": text, "target": t["target"](d), "requests": t["requests"](d, text)})
    entry = {"source": t["source"], "docs": docs}
    if t["fewshot"]:
        entry["fewshot"] = fewshot_contexts(t)
    out["tasks"][name] = entry
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
print(len(TASKS), file=sys.stderr)
