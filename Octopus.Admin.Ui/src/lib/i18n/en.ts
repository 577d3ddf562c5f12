const en = {
  'common.close': 'Close',
};
export default en;
