// The demo's customer-support domain: what customers write about, and the phrase banks replies are
// made of. The corpus generator (corpus.ts) writes texts from these banks; the rubric (rubric.ts)
// recognises them with the patterns below. Both read this one file so they cannot drift apart.

export type Topic =
  | 'late_order'
  | 'refund'
  | 'broken_item'
  | 'wrong_item'
  | 'password'
  | 'billing'
  | 'subscription'
  | 'address_change';

export interface TopicSpec {
  topic: Topic;
  /** What the customer writes; slots: {product} {order} {days} {amount} {city} {plan} {weekday}. */
  messages: string[];
  /** Full, polite sentences carrying the step that fixes this problem. */
  actions: string[];
  /** The same step said as curtly as possible. */
  curt: string[];
  /** Recognises this topic's step in any reply. */
  actionPattern: RegExp;
  /** Recognises the topic in a customer's message. */
  promptPattern: RegExp;
}

export const TOPICS: TopicSpec[] = [
  {
    topic: 'late_order',
    messages: [
      'My order {order} still has not arrived.',
      'Where is my {product}? I ordered it {days} days ago.',
      'Order {order} was due on {weekday} and nothing came.',
      'The {product} I bought has not shown up yet.',
      'My package is late. Order {order}.',
      'I have been waiting {days} days for my {product}.',
      'My {product} delivery is late again.',
      'Still no sign of my {product}, order {order}.',
    ],
    actions: [
      'Please check your tracking number.',
      'Please check the tracking number in your confirmation email.',
      'You can follow your package with the tracking number on the Orders page.',
      'Please use the tracking link in your email to see where it is.',
    ],
    curt: ['Check your tracking number.', 'Check the tracking link.', 'Look at the tracking number.'],
    actionPattern: /\btracking (number|link)\b/i,
    promptPattern: /\b(not arrived|ordered it|was due|not shown up|is late|waiting|delivery is late|no sign of)\b/i,
  },
  {
    topic: 'refund',
    messages: [
      'I want a refund for my {product}.',
      'How do I get my money back for order {order}?',
      'The {product} was not what I expected. Can I get a refund?',
      'I sent the {product} back {days} days ago and still have no refund.',
      'Can I return the {product} and get my money back?',
      'I would like my money back for the {product}.',
    ],
    actions: [
      'Please request a refund on the Returns page.',
      'You can start your refund from the Returns page in your account.',
      'Please open the Returns page and choose the order to request a refund.',
    ],
    curt: ['Use the Returns page.', 'Request it on the Returns page.'],
    actionPattern: /\breturns page\b/i,
    promptPattern: /\b(refund|money back)\b/i,
  },
  {
    topic: 'broken_item',
    messages: [
      'My {product} arrived broken.',
      'The {product} from order {order} is cracked.',
      'The {product} stopped working after {days} days.',
      'My new {product} is damaged.',
      'The {product} came with a broken part.',
    ],
    actions: [
      'Please send us a photo of the damage and we will ship a replacement.',
      'Please reply with a photo of the damage so we can send a replacement.',
      'If you send a photo of the damage, we will send you a replacement.',
    ],
    curt: ['Send a photo of the damage.', 'Send us a photo.'],
    actionPattern: /\bphoto\b/i,
    promptPattern: /\b(broken|cracked|stopped working|damaged)\b/i,
  },
  {
    topic: 'wrong_item',
    messages: [
      'I ordered a {product} but got something else.',
      'You sent me the wrong item in order {order}.',
      'This is not the {product} I ordered.',
      'The box had the wrong {product} inside.',
    ],
    actions: [
      'Please start an exchange from your order history and we will send the right item.',
      'You can request an exchange in your order history, and the right item will follow.',
      'Please request an exchange on the Orders page so we can send the correct item.',
    ],
    curt: ['Request an exchange.', 'Start an exchange.'],
    actionPattern: /\bexchange\b/i,
    promptPattern: /\b(got something else|wrong item|not the .+ i ordered|wrong .+ inside)\b/i,
  },
  {
    topic: 'password',
    messages: [
      'I cannot log in to my account.',
      'I forgot my password.',
      'My password is not working.',
      'It says my password is wrong, but it is not.',
      'I am locked out of my account.',
      'How do I change my password?',
    ],
    actions: [
      'Please use the Forgot password link on the sign-in page to reset it.',
      'You can reset your password with the Forgot password link.',
      'Please reset your password from the sign-in page.',
    ],
    curt: ['Reset your password.', 'Use the Forgot password link.'],
    actionPattern: /\b(reset (it|your password)|forgot password link)\b/i,
    promptPattern: /\b(log in|password|locked out)\b/i,
  },
  {
    topic: 'billing',
    messages: [
      'I was charged twice for order {order}.',
      'There is a charge of ${amount} I do not recognise.',
      'Why was I billed ${amount} this month?',
      'My card was charged ${amount} twice.',
      'I see an extra charge on my statement.',
    ],
    actions: [
      'Please check the Billing page, where any double charge can be reversed.',
      'You can see every charge on the Billing page and dispute the wrong one there.',
      'Please open the Billing page to review the charge and dispute it.',
    ],
    curt: ['Check the Billing page.', 'See the Billing page.'],
    actionPattern: /\bbilling page\b/i,
    promptPattern: /\b(charged|charge|billed)\b/i,
  },
  {
    topic: 'subscription',
    messages: [
      'How do I cancel my subscription?',
      'I want to stop my {plan} plan.',
      'Please cancel my membership.',
      'I do not want the {plan} plan any more.',
      'How can I end my {plan} subscription?',
    ],
    actions: [
      'You can cancel anytime in your account settings under Subscription.',
      'Please go to Subscription in your account settings to cancel it.',
      'You can end the plan yourself under Subscription in your account settings.',
    ],
    curt: ['Cancel it in account settings.', 'Go to account settings.'],
    actionPattern: /\baccount settings\b/i,
    promptPattern: /\b(subscription|plan|membership)\b/i,
  },
  {
    topic: 'address_change',
    messages: [
      'I need to change the delivery address for order {order}.',
      'I moved to {city}. Can I update my address?',
      'There is a wrong address on order {order}.',
      'Can you ship my {product} to a new address?',
      'I typed my address wrong for the {product}.',
    ],
    actions: [
      'Please update the address in your order details before it ships.',
      'You can edit the address in your order details until the order ships.',
      'Please change the address in the order details page before shipping.',
    ],
    curt: ['Edit the order details.', 'Change it in the order details.'],
    actionPattern: /\border details\b/i,
    promptPattern: /\b(address)\b/i,
  },
];

export const EMPATHY = [
  "I'm sorry to hear that.",
  "I'm sorry about the trouble.",
  'I understand how frustrating this is.',
  'Sorry for the inconvenience.',
  'I apologise for the trouble.',
  'Thank you for your patience.',
];
export const EMPATHY_PATTERN = /\b(sorry|understand how frustrating|apologise|thank you for your patience)\b/i;

export const OFFER_HELP = [
  "If you need further help, I'm here.",
  'Let me know if there is anything else I can do.',
  'I am happy to help further if needed.',
  'Feel free to write again if you need more help.',
  "I'm here if you have any other questions.",
];
export const OFFER_PATTERN =
  /\b(further help|anything else i can do|help further|need more help|other questions)\b/i;

export const RUDE = [
  "That's not my problem.",
  'Figure it out yourself.',
  'Stop bothering us.',
  'Read the FAQ like everyone else.',
  'Whatever.',
  'Ugh, not this again.',
  'You should have been more careful.',
];
export const RUDE_PATTERN =
  /\b(not my problem|figure it out|stop bothering|like everyone else|whatever|ugh|should have been more careful)\b/i;

export const OFF_TOPIC = [
  'Have you seen our new {product}?',
  'The weather is lovely today.',
  'Did you know we sell gift cards?',
  'Our summer sale starts next week.',
  'I really like the colour blue.',
  'Our office has a new coffee machine.',
];
export const OFF_TOPIC_PATTERN = /\b(have you seen our|weather|gift cards|summer sale|colour blue|coffee machine)\b/i;

/** Claims the agent cannot know from the message: the rubric's "invented facts". */
export const INVENTED = [
  'Your order was delivered yesterday.',
  'We already refunded ${amount} to your card.',
  'Your {product} is in our {city} warehouse and arrives tomorrow.',
  'Your password was reset this morning.',
  'Your account has been closed.',
  'The courier lost your package in {city}.',
  'We gave you a free {product}.',
];
export const INVENTED_PATTERN =
  /\b(was delivered yesterday|already refunded|arrives tomorrow|was reset this morning|has been closed|lost your package|gave you a free)\b/i;

export const GREETINGS = ['', '', 'Hi,', 'Hello,', 'Hey,', 'Hi there,', 'Good morning,'];
export const CLOSINGS = ['', '', '', 'Thanks.', 'Please help.', 'Any news?', 'This is urgent.', 'Thank you.'];

export const PRODUCTS = [
  'kettle', 'toaster', 'lamp', 'backpack', 'blender', 'phone case', 'jacket', 'desk chair', 'mug',
  'headphones', 'keyboard', 'rug', 'teapot', 'monitor', 'umbrella', 'watch', 'scarf', 'speaker',
  'coffee grinder', 'yoga mat', 'frying pan', 'bookshelf', 'mirror', 'printer', 'pillow', 'blanket',
  'camera', 'tablet', 'charger', 'water bottle', 'sneakers', 'hair dryer', 'vase', 'clock', 'bike helmet',
  'sofa cover', 'tent', 'drill', 'fan', 'microwave',
];
export const NAMES = [
  'Maria', 'Tom', 'Aisha', 'Ken', 'Lucia', 'Omar', 'Priya', 'Jonas', 'Mei', 'Pedro', 'Sara', 'Ivan',
  'Chloe', 'Ravi', 'Nora', 'Leo', 'Fatima', 'Hugo', 'Yuki', 'Ben', 'Elena', 'Sam', 'Zoe', 'Ali',
];
export const CITIES = ['Leeds', 'Lyon', 'Porto', 'Austin', 'Oslo', 'Graz', 'Cork', 'Pune', 'Kyoto', 'Quito', 'Perth', 'Turin'];
export const PLANS = ['Basic', 'Plus', 'Premium', 'Family', 'Pro', 'Student'];
export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function topicSpec(topic: Topic): TopicSpec {
  const spec = TOPICS.find((t) => t.topic === topic);
  if (!spec) throw new Error(`unknown demo topic ${topic}`);
  return spec;
}

/**
 * The customer's problem, read from their message. Order matters: the more specific problems are
 * tried first ("refund for my broken kettle" is about a refund, "wrong address" about the address).
 */
const TOPIC_ORDER: Topic[] = [
  'address_change', 'refund', 'billing', 'broken_item', 'wrong_item', 'password', 'subscription', 'late_order',
];
export function topicOf(prompt: string): Topic | null {
  for (const topic of TOPIC_ORDER) if (topicSpec(topic).promptPattern.test(prompt)) return topic;
  return null;
}
