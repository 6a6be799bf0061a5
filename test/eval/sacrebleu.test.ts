// BLEU / chrF / TER ported from sacrebleu 1.5.0, checked against the expected scores published in
// sacrebleu's own test files (mjpost/sacrebleu test/test_bleu.py, test/test_chrf.py of the 1.x
// series, test/test_ter.py), cited case by case.
import { describe, expect, it } from 'vitest'
import { computeBleu, corpusBleu } from '../../src/core/eval/metrics/sacrebleu/bleu'
import { corpusChrf } from '../../src/core/eval/metrics/sacrebleu/chrf'
import { corpusTer } from '../../src/core/eval/metrics/sacrebleu/ter'
import { tokenize13a } from '../../src/core/eval/metrics/sacrebleu/tokenizer13a'

const refs = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.']
]
const hyps = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.']
// raw_corpus_bleu(sys, refs, smooth_value): floor smoothing, no tokenisation, effective order
const raw = (h: string[], r: string[][], smooth = 0.1) => corpusBleu(h, r, { smoothMethod: 'floor', smoothValue: smooth, tokenize: 'none', useEffectiveOrder: true })

describe('BLEU (test_bleu.py)', () => {
  it('corpus_bleu defaults on the README example: 48.530827', () => {
    expect(corpusBleu(hyps, refs).score).toBeCloseTo(48.530827, 6)
    expect(corpusBleu(hyps, refs, { tokenize: '13a' }).score).toBeCloseTo(48.530827, 6)
    expect(corpusBleu(hyps, refs, { smoothMethod: 'none' }).score).toBeCloseTo(48.530827, 6)
    expect(corpusBleu(hyps, refs, { tokenize: 'none' }).score).toBeCloseTo(49.1919566, 6)
  })
  it('empty hypotheses are kept and score 0', () => {
    expect(corpusBleu(['', '', ''], refs).score).toBe(0)
  })
  it('raw corpus BLEU cases', () => {
    expect(raw(['this is a test', 'another test'], [['ref1', 'ref2']], 0.01).score / 100).toBeCloseTo(0.003799178428257963, 12)
    expect(raw(['this is a test'], [['this is a test']], 0.01).score / 100).toBeCloseTo(1, 12)
    expect(raw(['this is a fest'], [['this is a test']], 0.01).score / 100).toBeCloseTo(0.223606797749979, 12)
  })
  it('effective order', () => {
    expect(raw(['test'], [['a test']], 0.01).score / 100).toBeCloseTo(0.3678794411714425, 12)
    expect(raw(['a test'], [['a test']], 0.01).score / 100).toBeCloseTo(1, 12)
    expect(raw(['a little test'], [['a test']], 0.01).score / 100).toBeCloseTo(0.03218297948685433, 12)
  })
  it('statistics and the floor offset', () => {
    const r = raw(['am I am a character sequence'], [['I am a symbol string sequence a a']], 0.01)
    expect(r.counts).toEqual([4, 2, 1, 0])
    expect(r.totals).toEqual([6, 5, 4, 3])
    expect(raw(['am I am a character sequence'], [['I am a symbol string sequence a a']], 0).score).toBe(0)
    expect(corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], { smoothMethod: 'floor', tokenize: 'none', useEffectiveOrder: true }).score / 100).toBeCloseTo(
      0.1555722182,
      9
    )
  })
  it('compute_bleu from statistics', () => {
    expect(computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score / 100).toBeCloseTo(0.8375922397, 9)
    expect(computeBleu([0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 'floor', 0).score).toBe(0)
    expect(computeBleu([6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 'floor', 0).score).toBe(0)
  })
  it('13a tokenisation splits punctuation but keeps numbers whole', () => {
    expect(tokenize13a('Hello, world. It costs 3.50 - or 1,000!')).toBe('Hello , world . It costs 3.50 - or 1,000 !')
    expect(tokenize13a('&quot;a&quot; &amp; b')).toBe('" a " & b')
  })
})

describe('chrF (test_chrf.py, sacrebleu 1.x: char order 6, beta 3, scores 0..1)', () => {
  const cases: [string[], string[], number][] = [
    [['Niemand hat die Absicht, eine Mauer zu errichten'], ['Niemand hat die Absicht, eine Mauer zu errichten'], 1.0],
    [['abcdefg'], ['hijklmnop'], 0.0],
    [['a'], ['a'], 1.0],
    [[''], [''], 0.0],
    [[''], ['reference'], 0.0],
    [['a b c'], ['a b c'], 1.0],
    [['a b c'], ['abc'], 1.0],
    [[''], ['c'], 0.0],
    [['a', 'b'], ['a', 'c'], 0.5],
    [['source'], [''], 0.0],
    [['aa'], ['ab'], 0.25],
    [[' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '], ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'], 0.64130269831561459],
    [
      [' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
      ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'],
      0.63361730303214769
    ]
  ]
  for (const [h, r, expected] of cases) {
    it(`${JSON.stringify(h).slice(0, 40)} -> ${expected}`, () => {
      expect(corpusChrf(h, [r], { order: 6, beta: 3 })).toBeCloseTo(expected, 12)
    })
  }
  it('keeping whitespace', () => {
    expect(
      corpusChrf(['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'], [['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.']], {
        beta: 3,
        removeWhitespace: false
      })
    ).toBeCloseTo(0.67348160629772402, 12)
    expect(
      corpusChrf(
        ['risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
        [['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .']],
        { beta: 3, removeWhitespace: false }
      )
    ).toBeCloseTo(0.652414427449, 11)
  })
})

describe('TER (test_ter.py; sacrebleu 1.5 reports 0..1)', () => {
  it('perfect match, no overlap, empty hypothesis, a single shift', () => {
    expect(corpusTer(['aaaa bbbb cccc dddd'], [['aaaa bbbb cccc dddd']])).toBe(0)
    expect(corpusTer(['dddd eeee ffff'], [['aaaa bbbb cccc']])).toBe(1)
    expect(corpusTer([''], [['a']])).toBe(1)
    expect(corpusTer(['d e f g h a b c'], [['a b c d e f g h']])).toBeCloseTo(1 / 8, 12)
  })
  it('the realistic WMT 2019 dev example: 0.136', () => {
    const h = [
      'wählen Sie " Bild neu berechnen , " um beim Ändern der Bildgröße Pixel hinzuzufügen oder zu entfernen , damit das Bild ungefähr dieselbe Größe aufweist wie die andere Größe .',
      'wenn Sie alle Aufgaben im aktuellen Dokument aktualisieren möchten , wählen Sie im Menü des Aufgabenbedienfelds die Option " Alle Aufgaben aktualisieren . "',
      'klicken Sie auf der Registerkarte " Optionen " auf die Schaltfläche " Benutzerdefiniert " und geben Sie Werte für " Fehlerkorrektur-Level " und " Y / X-Verhältnis " ein .',
      'Sie können beispielsweise ein Dokument erstellen , das ein Auto über die Bühne enthält .',
      'wählen Sie im Dialogfeld " Neu aus Vorlage " eine Vorlage aus und klicken Sie auf " Neu . "'
    ]
    const r = [
      'wählen Sie " Bild neu berechnen , " um beim Ändern der Bildgröße Pixel hinzuzufügen oder zu entfernen , damit die Darstellung des Bildes in einer anderen Größe beibehalten wird .',
      'wenn Sie alle Aufgaben im aktuellen Dokument aktualisieren möchten , wählen Sie im Menü des Aufgabenbedienfelds die Option " Alle Aufgaben aktualisieren . "',
      'klicken Sie auf der Registerkarte " Optionen " auf die Schaltfläche " Benutzerdefiniert " und geben Sie für " Fehlerkorrektur-Level " und " Y / X-Verhältnis " niedrigere Werte ein .',
      'Sie können beispielsweise ein Dokument erstellen , das ein Auto enthalt , das sich über die Bühne bewegt .',
      'wählen Sie im Dialogfeld " Neu aus Vorlage " eine Vorlage aus und klicken Sie auf " Neu . "'
    ]
    // sacrebleu's test: abs(100 * score - 100 * 0.136) < 1e-3
    expect(Math.abs(corpusTer(h, [r]) - 0.136)).toBeLessThan(1e-5)
  })
  it('empty references score 1 (sacrebleu 1.x TERScore)', () => {
    expect(corpusTer([''], [['']])).toBe(1)
    expect(corpusTer(['a b'], [['']])).toBe(1)
  })
  it('is case-insensitive by default', () => {
    expect(corpusTer(['The Cat'], [['the cat']])).toBe(0)
    expect(corpusTer(['The Cat'], [['the cat']], { caseSensitive: true })).toBe(1)
  })
})
