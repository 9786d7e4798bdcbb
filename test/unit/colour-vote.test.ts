import { describe, expect, it } from 'vitest';
import { ColourVote } from '../../src/attributes/colour-vote.js';

describe('ColourVote', () => {
  it('names what most sightings saw, not what the last one did', () => {
    const vote = new ColourVote();
    vote.add({ colour: { colour: 'red', confidence: 0.6 } });
    vote.add({ colour: { colour: 'red', confidence: 0.5, alternative: 'black' } });
    vote.add({ colour: { colour: 'black', confidence: 0.7 } });
    const result = vote.result({ colour: { colour: 'black', confidence: 0.7 }, track: 'x-1' });
    expect(result.colour).toMatchObject({ colour: 'red', alternative: 'black' });
    expect(result.track).toBe('x-1');
  });

  it('votes each part apart, and adds no part the final description lacks', () => {
    const vote = new ColourVote();
    vote.add({ upper_colour: { colour: 'blue', confidence: 0.8 }, lower_colour: { colour: 'black', confidence: 0.9 } });
    vote.add({ upper_colour: { colour: 'blue', confidence: 0.4 }, colour: { colour: 'white', confidence: 0.9 } });
    const result = vote.result({ upper_colour: { colour: 'grey', confidence: 0.3 }, colour: { colour: 'white', confidence: 0.9 } });
    expect(result.upper_colour).toMatchObject({ colour: 'blue' });
    expect(result.colour).toMatchObject({ colour: 'white' });
    expect(result.lower_colour).toBeUndefined();
  });
});
